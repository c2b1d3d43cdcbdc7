using ChatServer.Storage;

namespace ChatServer.Chat;

/// <summary>The outcome of a Send: the message's seq, id and time, and whether this call was a retry of an earlier one.</summary>
internal sealed record SendOutcome(ulong Seq, Guid MessageId, long SentAtMs, bool IsRetry);

internal sealed record OpenView(GroupView Group, IReadOnlyList<EventRecord> Events, bool HasMore);

internal sealed record SyncEntry(Guid GroupId, ulong LastSeq, int Unread, EventRecord? Newest);

internal sealed partial class GroupService
{
    private readonly TokenBuckets _sendBuckets;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid, Guid), long> _typingStamps = new();

    public async Task<Result<SendOutcome>> SendAsync(Guid caller, Guid groupId, string? clientMsgId, string? body)
    {
        var found = Find(caller, groupId, Need.Member);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        if (Validation.ClientMsgId(clientMsgId) is { } e1) return e1;

        Task<SendOutcome> pending;
        TaskCompletionSource<SendOutcome>? mine = null;
        await g.Gate.WaitAsync();
        try
        {
            if (!IsMember(g, caller)) return ChatError.Forbidden("not a member of this group");
            var dedupKey = (caller, clientMsgId!);
            if (g.PendingSends.TryGetValue(dedupKey, out var inFlight))
            {
                pending = inFlight;
            }
            else if (FindFirstSend(g, caller, clientMsgId!) is { } firstSeq)
            {
                var first = ReadEvent(groupId, firstSeq);
                return first is null ? ChatError.Internal("the first send of this clientMsgId is missing") : new SendOutcome(first.Seq, first.Id, first.AtMs, true);
            }
            else
            {
                // A retry returns the first reply whatever its body, so the body is checked only for a new send.
                if (Validation.Body(body, _options.MaxBodyBytes) is { } e2) return e2;
                var retryAfter = _sendBuckets.TryTake(caller);
                if (retryAfter > 0) return ChatError.RateLimited("too many messages; slow down", retryAfter);

                var ev = NewEvent(g, EventKinds.Message, caller, clientMsgId, body);
                MemberRecord member;
                lock (g) member = g.Members[caller];
                var previousRead = g.ReadPositions[caller];
                g.ReadPositions[caller] = ev.Seq;
                var updatedMember = member with { ReadSeq = ev.Seq };
                var mutations = new List<Mutation>(5)
                {
                    new(StoreKeys.ForDedup(groupId, caller, clientMsgId!), RecordCodec.EncodeUInt64(ev.Seq)),
                    new(StoreKeys.ForMember(groupId, caller), RecordCodec.Encode(updatedMember)),
                };
                AddEvent(mutations, ev);
                mine = new TaskCompletionSource<SendOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
                pending = mine.Task;
                g.PendingSends[dedupKey] = pending;
                var commit = CommitGroupChangeAsync(g, ev.Seq - 1, new WalEntry(mutations, () =>
                {
                    lock (g)
                    {
                        g.LastSeq = ev.Seq;
                        g.MessageSeqs.Add(ev.Seq);
                        if (g.Members.TryGetValue(caller, out var m) && m.ReadSeq < ev.Seq) g.Members[caller] = m with { ReadSeq = ev.Seq };
                    }

                    _events.EventCommitted(g, ev);
                }));
                if (commit.IsFaulted)
                {
                    // Refused before it reached the log (store failed, or the PostgreSQL backlog is at its budget):
                    // its seq was given back; the sender's read position and the in-flight entry go too.
                    g.ReadPositions[caller] = previousRead;
                    g.PendingSends.Remove(dedupKey);
                    return ChatError.Unavailable(commit.Exception!.InnerException!.Message);
                }

                _ = CompleteSendAsync(g, dedupKey, commit, mine, new SendOutcome(ev.Seq, ev.Id, ev.AtMs, false));
            }
        }
        finally
        {
            g.Gate.Release();
        }

        try
        {
            var outcome = await pending;
            return mine is null ? outcome with { IsRetry = true } : outcome;
        }
        catch (StorageUnavailableException ex)
        {
            return ChatError.Unavailable(ex.Message);
        }
    }

    private static async Task CompleteSendAsync(GroupState g, (Guid, string) key, Task commit, TaskCompletionSource<SendOutcome> tcs, SendOutcome outcome)
    {
        try
        {
            await commit;
            tcs.TrySetResult(outcome);
        }
        catch (Exception ex)
        {
            tcs.TrySetException(ex);
        }
        finally
        {
            await g.Gate.WaitAsync();
            g.PendingSends.Remove(key);
            g.Gate.Release();
        }
    }

    public Result<(IReadOnlyList<EventRecord> Events, bool HasMore)> History(Guid caller, Guid groupId, ulong? beforeSeq, int? limit)
    {
        var n = limit ?? 50;
        if (n is < 1 or > 100) return ChatError.InvalidArgument("limit must be 1–100");
        var found = Find(caller, groupId, Need.Read);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        ulong last;
        lock (g) last = g.LastSeq;
        return ReadRange(g, beforeSeq, n, last);
    }

    public Result<OpenView> Open(Guid caller, Guid groupId, int? limit)
    {
        var n = limit ?? 50;
        if (n is < 1 or > 100) return ChatError.InvalidArgument("limit must be 1–100");
        var found = Find(caller, groupId, Need.Read);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        var view = View(g, caller);
        var (events, more) = ReadRange(g, null, n, view.LastSeq);
        return new OpenView(view, events, more);
    }

    public Result<IReadOnlyList<SyncEntry>> Sync(Guid caller, IReadOnlyDictionary<Guid, ulong> positions)
    {
        if (positions.Count > 500) return ChatError.InvalidArgument("at most 500 groups per Sync");
        var items = new List<SyncEntry>(positions.Count);
        foreach (var (groupId, _) in positions)
        {
            if (!_state.Groups.TryGetValue(groupId, out var g)) continue;
            ulong last;
            int unread;
            lock (g)
            {
                if (!g.Members.TryGetValue(caller, out var m)) continue;
                last = g.LastSeq;
                unread = g.CountMessagesAfter(m.ReadSeq, last);
            }

            items.Add(new SyncEntry(groupId, last, unread, last == 0 ? null : CurrentState(ReadEvent(groupId, last))));
        }

        return items;
    }

    /// <summary>Events of <paramref name="g"/> with seq in (after, upTo], ascending, in current state (for resume).</summary>
    public List<EventRecord> ReadAfter(GroupState g, ulong after, ulong upTo)
    {
        var list = new List<EventRecord>((int)Math.Min(upTo - Math.Min(after, upTo), 1024));
        if (upTo > after) ReadInto(list, g.Record.Id, after + 1, upTo);
        return list;
    }

    public async Task<Result<Unit>> MarkReadAsync(Guid caller, Guid groupId, ulong seq, object? originSession)
    {
        var found = Find(caller, groupId, Need.Member);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        Task commit;
        await g.Gate.WaitAsync();
        try
        {
            if (!g.ReadPositions.TryGetValue(caller, out var current)) return ChatError.Forbidden("not a member of this group");
            if (seq > g.AssignedSeq || seq > LastSeqOf(g)) return ChatError.InvalidArgument("seq is beyond the group's last seq");
            if (seq <= current) return Unit.Value;
            g.ReadPositions[caller] = seq;
            MemberRecord member;
            lock (g) member = g.Members[caller];
            var updated = member with { ReadSeq = seq };
            commit = _store.CommitAsync(new WalEntry([new Mutation(StoreKeys.ForMember(groupId, caller), RecordCodec.Encode(updated))], () =>
            {
                lock (g)
                {
                    if (g.Members.TryGetValue(caller, out var m) && m.ReadSeq < seq) g.Members[caller] = m with { ReadSeq = seq };
                }

                _events.ReadUpTo(g, caller, seq, originSession);
            }));
            if (commit.IsFaulted) g.ReadPositions[caller] = current;
        }
        finally
        {
            g.Gate.Release();
        }

        try
        {
            await commit;
        }
        catch (StorageUnavailableException ex)
        {
            return ChatError.Unavailable(ex.Message);
        }

        return Unit.Value;
    }

    public Result<Unit> Typing(Guid caller, Guid groupId, object? originSession)
    {
        var found = Find(caller, groupId, Need.Member);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        int count;
        lock (g) count = g.Members.Count;
        if (count > _options.FanoutLimit) return Unit.Value;
        var now = _time.GetTimestamp();
        var key = (caller, groupId);
        if (_typingStamps.TryGetValue(key, out var last) && _time.GetElapsedTime(last, now) < _options.TypingInterval) return Unit.Value;
        _typingStamps[key] = now;
        _events.Typing(g, caller, originSession);
        return Unit.Value;
    }

    public async Task<Result<ulong>> EditAsync(Guid caller, Guid groupId, ulong seq, string? body)
    {
        var found = Find(caller, groupId, Need.Member);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        if (Validation.Body(body, _options.MaxBodyBytes) is { } e1) return e1;
        await g.Gate.WaitAsync();
        try
        {
            if (!IsMember(g, caller)) return ChatError.Forbidden("not a member of this group");
            var target = seq == 0 || seq > LastSeqOf(g) ? null : ReadEvent(groupId, seq);
            if (target is null || target.Deleted) return ChatError.NotFound("no such message");
            if (target.Kind != EventKinds.Message) return ChatError.InvalidArgument("only messages can be edited");
            if (target.ActorId != caller) return ChatError.Forbidden("only the author may edit a message");
            var ev = NewEvent(g, EventKinds.Edit, caller, body: body, target: seq);
            var updated = target with { Body = body, EditedAtMs = ev.AtMs };
            var mutations = new List<Mutation> { new(StoreKeys.ForEvent(groupId, seq), RecordCodec.Encode(updated)) };
            AddEvent(mutations, ev);
            await CommitGroupEventAsync(g, mutations, ev);
            return ev.Seq;
        }
        catch (StorageUnavailableException ex)
        {
            return ChatError.Unavailable(ex.Message);
        }
        finally
        {
            g.Gate.Release();
        }
    }

    public async Task<Result<ulong>> DeleteAsync(Guid caller, Guid groupId, ulong seq)
    {
        var found = Find(caller, groupId, Need.Member);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        await g.Gate.WaitAsync();
        try
        {
            var role = RoleOf(g, caller);
            if (role is null) return ChatError.Forbidden("not a member of this group");
            var target = seq == 0 || seq > LastSeqOf(g) ? null : ReadEvent(groupId, seq);
            if (target is null || target.Deleted) return ChatError.NotFound("no such message");
            if (target.Kind != EventKinds.Message) return ChatError.InvalidArgument("only messages can be deleted");
            if (target.ActorId != caller && role == Roles.Member) return ChatError.Forbidden("only the author, the owner or an admin may delete a message");
            var ev = NewEvent(g, EventKinds.Delete, caller, target: seq);
            var updated = target with { Body = string.Empty, Deleted = true };
            var mutations = new List<Mutation> { new(StoreKeys.ForEvent(groupId, seq), RecordCodec.Encode(updated)) };
            AddEvent(mutations, ev);
            await CommitGroupEventAsync(g, mutations, ev);
            return ev.Seq;
        }
        catch (StorageUnavailableException ex)
        {
            return ChatError.Unavailable(ex.Message);
        }
        finally
        {
            g.Gate.Release();
        }
    }

    private Task CommitGroupEventAsync(GroupState g, List<Mutation> mutations, EventRecord ev)
        => CommitGroupChangeAsync(g, ev.Seq - 1, new WalEntry(mutations, () =>
        {
            lock (g) g.LastSeq = ev.Seq;
            _events.EventCommitted(g, ev);
        }));

    private static ulong LastSeqOf(GroupState g)
    {
        lock (g) return g.LastSeq;
    }

    private (IReadOnlyList<EventRecord> Events, bool HasMore) ReadRange(GroupState g, ulong? beforeSeq, int limit, ulong last)
    {
        var top = beforeSeq is { } b ? Math.Min(b == 0 ? 0 : b - 1, last) : last;
        var bottom = top > (ulong)limit ? top - (ulong)limit + 1 : 1;
        var list = new List<EventRecord>(limit);
        if (top == 0) return (list, false);
        ReadInto(list, g.Record.Id, bottom, top);
        return (list, bottom > 1);
    }

    /// <summary>One event: from FASTER, or from PostgreSQL when it fell out of the hot window (or was never local).</summary>
    public EventRecord? ReadEvent(Guid groupId, ulong seq)
    {
        using (var reader = _store.LeaseReader())
        {
            if (reader.ReadEvent(groupId, seq, page: false) is { } ev) return ev;
        }

        if (!_store.HasPostgres) return null;
        var fromPg = _store.ReadEventsFromPostgres(groupId, seq, seq);
        return fromPg.Count == 1 ? fromPg[0] : null;
    }

    /// <summary>The seq of the first send of (sender, clientMsgId): the local dedup key, else PostgreSQL for history that is not all local.</summary>
    private ulong? FindFirstSend(GroupState g, Guid sender, string clientMsgId)
    {
        if (_store.Read(StoreKeys.ForDedup(g.Record.Id, sender, clientMsgId)) is { } seqBytes) return RecordCodec.DecodeUInt64(seqBytes);
        return g.HistoryNotAllLocal ? _store.FindClientMessageInPostgres(g.Record.Id, sender, clientMsgId) : null;
    }

    /// <summary>Appends the events [from, to] in current state: FASTER first, one PostgreSQL query for the ones it lacks.</summary>
    private void ReadInto(List<EventRecord> list, Guid groupId, ulong from, ulong to)
    {
        var start = list.Count;
        HashSet<ulong>? missing = null;
        using (var reader = _store.LeaseReader())
        {
            for (var seq = from; seq <= to; seq++)
            {
                if (reader.ReadEvent(groupId, seq, page: true) is { } ev) list.Add(ev);
                else if (_store.HasPostgres) (missing ??= new HashSet<ulong>()).Add(seq);
            }
        }

        if (missing is not null)
        {
            foreach (var ev in _store.ReadEventsFromPostgres(groupId, missing.Min(), missing.Max()))
            {
                if (missing.Contains(ev.Seq)) list.Add(ev);
            }

            list.Sort(start, list.Count - start, EventSeqOrder.Instance);
        }

        for (var i = start; i < list.Count; i++) list[i] = CurrentState(list[i])!;
    }

    private sealed class EventSeqOrder : IComparer<EventRecord>
    {
        public static readonly EventSeqOrder Instance = new();

        public int Compare(EventRecord? x, EventRecord? y) => x!.Seq.CompareTo(y!.Seq);
    }

    /// <summary>An edit of a deleted message shows an empty body (PROTOCOL.md §3 Current state).</summary>
    public EventRecord? CurrentState(EventRecord? ev)
    {
        if (ev is null || ev.Kind != EventKinds.Edit || ev.TargetSeq is not { } target) return ev;
        var message = ReadEvent(ev.GroupId, target);
        return message is { Deleted: true } ? ev with { Body = string.Empty } : ev;
    }
}
