using ChatServer.Storage;

namespace ChatServer.Chat;

/// <summary>
/// Groups, membership and messages: the single place where the rules of PROTOCOL.md §3 live.
/// Each group has one writer at a time (<see cref="GroupState.Gate"/>); a change is one write-ahead log
/// entry, acknowledged after its group commit, and applied to memory on the committer in log order.
/// </summary>
internal sealed partial class GroupService
{
    private static readonly Guid MaxUuid = new(Enumerable.Repeat((byte)0xFF, 16).ToArray(), bigEndian: true);

    private readonly ChatState _state;
    private readonly StorageEngine _store;
    private readonly ChatOptions _options;
    private readonly TimeProvider _time;
    private IChatEvents _events = NullChatEvents.Instance;

    public GroupService(ChatState state, StorageEngine store, ChatOptions options, TimeProvider time)
    {
        _state = state;
        _store = store;
        _options = options;
        _time = time;
        _sendBuckets = new TokenBuckets(options.SendRatePerSecond, options.SendBurst, time);
    }

    private enum Need
    {
        Read,
        Member,
        Admin,
        Owner,
    }

    public void Attach(IChatEvents events) => _events = events;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<Result<GroupView>> CreateAsync(Guid caller, string? name, string? description, bool? isPrivate)
    {
        if (Validation.Text(name, "name", 1, Validation.GroupNameMax) is { } e1) return e1;
        if (Validation.Text(description, "description", 0, Validation.DescriptionMax) is { } e2) return e2;
        if (!_state.Users.TryGetValue(caller, out var user)) return ChatError.Unauthenticated("unknown user");

        var now = NowMs;
        var group = new GroupRecord(Guid.CreateVersion7(), name!, description ?? string.Empty, isPrivate ?? false, caller, now);
        var state = new GroupState(group) { AssignedSeq = 1 };
        var member = new MemberRecord(group.Id, caller, Roles.Owner, now, 1);
        var ev = new EventRecord(group.Id, 1, Guid.CreateVersion7(), EventKinds.MemberJoined, caller, now, null, null, null, null, false, null);
        state.ReadPositions[caller] = 1;
        var mutations = new List<Mutation>
        {
            new(StoreKeys.ForGroup(group.Id), RecordCodec.Encode(group)),
            new(StoreKeys.ForMember(group.Id, caller), RecordCodec.Encode(member)),
        };
        AddEvent(mutations, ev);
        await _store.WriteThroughAsync(mutations);
        await _store.CommitAsync(new WalEntry(mutations, () =>
        {
            lock (state)
            {
                state.LastSeq = 1;
                state.Members[caller] = member;
                state.MemberOrder.Add(caller);
            }

            _state.Groups[group.Id] = state;
            lock (user) user.Groups.Add(group.Id);
            _events.MemberAdded(state, caller);
            _events.EventCommitted(state, ev);
        }));
        return View(state, caller);
    }

    public Result<GroupView> Get(Guid caller, Guid groupId)
    {
        var found = Find(caller, groupId, Need.Read);
        return found.IsOk ? View(found.Value!, caller) : found.Error!;
    }

    public Result<Page<GroupView>> List(Guid caller, Guid? after, int? limit)
    {
        var n = limit ?? 50;
        if (n is < 1 or > 100) return ChatError.InvalidArgument("limit must be 1–100");
        if (!_state.Users.TryGetValue(caller, out var user)) return ChatError.Unauthenticated("unknown user");
        var ids = new List<Guid>(n + 1);
        lock (user)
        {
            IEnumerable<Guid> source = after is { } a ? ViewAfter(user.Groups, a) : user.Groups;
            foreach (var id in source)
            {
                if (after is { } cursor && id == cursor) continue;
                ids.Add(id);
                if (ids.Count > n) break;
            }
        }

        var more = ids.Count > n;
        if (more) ids.RemoveAt(n);
        var items = new List<GroupView>(ids.Count);
        foreach (var id in ids)
        {
            if (_state.Groups.TryGetValue(id, out var g)) items.Add(View(g, caller));
        }

        return new Page<GroupView>(items, more && ids.Count > 0 ? ids[^1] : null);
    }

    public async Task<Result<GroupView>> JoinAsync(Guid caller, Guid groupId)
    {
        var found = Find(caller, groupId, Need.Read);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        await g.Gate.WaitAsync();
        try
        {
            if (IsMember(g, caller)) return View(g, caller);
            if (g.Record.IsPrivate) return ChatError.NotFound("no such group");
            await AddMemberLockedAsync(g, caller, null);
            return View(g, caller);
        }
        finally
        {
            g.Gate.Release();
        }
    }

    public async Task<Result<MemberView>> AddMemberAsync(Guid caller, Guid groupId, Guid userId)
    {
        if (userId == caller)
        {
            var joined = await JoinAsync(caller, groupId);
            if (!joined.IsOk) return joined.Error!;
            return MemberOf(_state.Groups[groupId], caller)!;
        }

        var found = Find(caller, groupId, Need.Admin);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        if (!_state.Users.ContainsKey(userId)) return ChatError.NotFound("no such user");
        await g.Gate.WaitAsync();
        try
        {
            if (RoleOf(g, caller) is not (Roles.Owner or Roles.Admin)) return ChatError.Forbidden("only the owner or an admin may add members");
            if (MemberOf(g, userId) is { } existing) return existing;
            await AddMemberLockedAsync(g, userId, caller);
            return MemberOf(g, userId)!;
        }
        finally
        {
            g.Gate.Release();
        }
    }

    public async Task<Result<Unit>> LeaveAsync(Guid caller, Guid groupId)
    {
        var found = Find(caller, groupId, Need.Member);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        await g.Gate.WaitAsync();
        try
        {
            var role = RoleOf(g, caller);
            if (role is null) return ChatError.Forbidden("not a member of this group");
            if (role == Roles.Owner) return ChatError.Forbidden("the owner cannot leave; transfer ownership first");
            await RemoveMemberLockedAsync(g, caller, null);
            return Unit.Value;
        }
        finally
        {
            g.Gate.Release();
        }
    }

    public async Task<Result<Unit>> RemoveMemberAsync(Guid caller, Guid groupId, Guid userId)
    {
        if (userId == caller) return await LeaveAsync(caller, groupId);
        var found = Find(caller, groupId, Need.Admin);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        await g.Gate.WaitAsync();
        try
        {
            var callerRole = RoleOf(g, caller);
            if (callerRole is not (Roles.Owner or Roles.Admin)) return ChatError.Forbidden("only the owner or an admin may remove members");
            var targetRole = RoleOf(g, userId);
            if (targetRole is null) return ChatError.NotFound("not a member of this group");
            if (targetRole == Roles.Owner) return ChatError.Forbidden("the owner cannot be removed");
            if (targetRole == Roles.Admin && callerRole != Roles.Owner) return ChatError.Forbidden("only the owner may remove an admin");
            await RemoveMemberLockedAsync(g, userId, caller);
            return Unit.Value;
        }
        finally
        {
            g.Gate.Release();
        }
    }

    public Result<Page<MemberView>> ListMembers(Guid caller, Guid groupId, Guid? after, int? limit)
    {
        var n = limit ?? 100;
        if (n is < 1 or > 1000) return ChatError.InvalidArgument("limit must be 1–1000");
        var found = Find(caller, groupId, Need.Read);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        var items = new List<MemberView>(Math.Min(n, 256));
        var more = false;
        lock (g)
        {
            IEnumerable<Guid> source = after is { } a ? ViewAfter(g.MemberOrder, a) : g.MemberOrder;
            foreach (var id in source)
            {
                if (after is { } cursor && id == cursor) continue;
                if (items.Count == n)
                {
                    more = true;
                    break;
                }

                items.Add(new MemberView(g.Members[id], DisplayName(id)));
            }
        }

        return new Page<MemberView>(items, more ? items[^1].Member.UserId : null);
    }

    public async Task<Result<GroupView>> UpdateAsync(Guid caller, Guid groupId, string? name, string? description, bool? isPrivate)
    {
        var found = Find(caller, groupId, Need.Admin);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        if (name is not null && Validation.Text(name, "name", 1, Validation.GroupNameMax) is { } e1) return e1;
        if (description is not null && Validation.Text(description, "description", 0, Validation.DescriptionMax) is { } e2) return e2;
        await g.Gate.WaitAsync();
        try
        {
            if (RoleOf(g, caller) is not (Roles.Owner or Roles.Admin)) return ChatError.Forbidden("only the owner or an admin may update the group");
            var current = g.Record;
            var updated = current with
            {
                Name = name ?? current.Name,
                Description = description ?? current.Description,
                IsPrivate = isPrivate ?? current.IsPrivate,
            };
            if (updated == current) return View(g, caller);
            var ev = NewEvent(g, EventKinds.GroupUpdated, caller);
            var mutations = new List<Mutation> { new(StoreKeys.ForGroup(g.Record.Id), RecordCodec.Encode(updated)) };
            AddEvent(mutations, ev);
            await WriteThroughAsync(g, mutations, ev.Seq - 1);
            await CommitGroupChangeAsync(g, ev.Seq - 1, new WalEntry(mutations, () =>
            {
                lock (g)
                {
                    g.Record = updated;
                    g.LastSeq = ev.Seq;
                }

                _events.EventCommitted(g, ev);
            }));
            return View(g, caller);
        }
        finally
        {
            g.Gate.Release();
        }
    }

    public async Task<Result<MemberView>> SetRoleAsync(Guid caller, Guid groupId, Guid userId, string? roleName)
    {
        var found = Find(caller, groupId, Need.Owner);
        if (!found.IsOk) return found.Error!;
        var g = found.Value!;
        if (!Roles.TryParse(roleName, out var role)) return ChatError.InvalidArgument("role must be \"owner\", \"admin\" or \"member\"");
        await g.Gate.WaitAsync();
        try
        {
            if (RoleOf(g, caller) != Roles.Owner) return ChatError.Forbidden("only the owner may change roles");
            MemberRecord? target;
            lock (g) target = g.Members.GetValueOrDefault(userId);
            if (target is null) return ChatError.NotFound("not a member of this group");
            if (userId == caller) return ChatError.Forbidden("the owner cannot change its own role except by transferring ownership");
            if (target.Role == role) return MemberOf(g, userId)!;

            var mutations = new List<Mutation>();
            var events = new List<EventRecord>(2);
            var changed = new List<MemberRecord>(2);
            var updatedTarget = target with { Role = role };
            changed.Add(updatedTarget);
            var ev1 = NewEvent(g, EventKinds.RoleChanged, userId, body: Roles.Name(role), by: caller);
            events.Add(ev1);
            GroupRecord? regrouped = null;
            if (role == Roles.Owner)
            {
                MemberRecord owner;
                lock (g) owner = g.Members[caller];
                changed.Add(owner with { Role = Roles.Admin });
                events.Add(NewEvent(g, EventKinds.RoleChanged, caller, body: Roles.Name(Roles.Admin), by: caller));
                regrouped = g.Record with { OwnerId = userId };
                mutations.Add(new Mutation(StoreKeys.ForGroup(g.Record.Id), RecordCodec.Encode(regrouped)));
            }

            foreach (var m in changed) mutations.Add(new Mutation(StoreKeys.ForMember(g.Record.Id, m.UserId), RecordCodec.Encode(WithReadSeq(g, m))));
            foreach (var ev in events) AddEvent(mutations, ev);
            await WriteThroughAsync(g, mutations, events[0].Seq - 1);
            await CommitGroupChangeAsync(g, events[0].Seq - 1, new WalEntry(mutations, () =>
            {
                lock (g)
                {
                    foreach (var m in changed) g.Members[m.UserId] = g.Members[m.UserId] with { Role = m.Role };
                    if (regrouped is not null) g.Record = g.Record with { OwnerId = regrouped.OwnerId };
                    g.LastSeq = events[^1].Seq;
                }

                foreach (var ev in events) _events.EventCommitted(g, ev);
            }));
            return MemberOf(g, userId)!;
        }
        finally
        {
            g.Gate.Release();
        }
    }

    private async Task AddMemberLockedAsync(GroupState g, Guid userId, Guid? by)
    {
        var now = NowMs;
        var ev = NewEvent(g, EventKinds.MemberJoined, userId, by: by);
        var member = new MemberRecord(g.Record.Id, userId, Roles.Member, now, ev.Seq);
        var mutations = new List<Mutation> { new(StoreKeys.ForMember(g.Record.Id, userId), RecordCodec.Encode(member)) };
        AddEvent(mutations, ev);
        await WriteThroughAsync(g, mutations, ev.Seq - 1);
        var user = _state.Users[userId];
        await CommitGroupChangeAsync(g, ev.Seq - 1, new WalEntry(mutations, () =>
        {
            lock (g)
            {
                g.Members[userId] = member;
                g.MemberOrder.Add(userId);
                g.LastSeq = ev.Seq;
            }

            lock (user) user.Groups.Add(g.Record.Id);
            _events.MemberAdded(g, userId);
            _events.EventCommitted(g, ev);
        }));
        g.ReadPositions[userId] = ev.Seq;
    }

    private async Task RemoveMemberLockedAsync(GroupState g, Guid userId, Guid? by)
    {
        var ev = NewEvent(g, EventKinds.MemberLeft, userId, by: by);
        var mutations = new List<Mutation> { new(StoreKeys.ForMember(g.Record.Id, userId), null) };
        AddEvent(mutations, ev);
        await WriteThroughAsync(g, mutations, ev.Seq - 1);
        var user = _state.Users[userId];
        await CommitGroupChangeAsync(g, ev.Seq - 1, new WalEntry(mutations, () =>
        {
            lock (g) g.LastSeq = ev.Seq;
            _events.EventCommitted(g, ev);
            lock (g)
            {
                g.Members.Remove(userId);
                g.MemberOrder.Remove(userId);
            }

            lock (user) user.Groups.Remove(g.Record.Id);
            _events.MemberRemoved(g, userId);
        }));
        g.ReadPositions.Remove(userId);
    }

    /// <summary>
    /// Hands a group change to the log (under the group's Gate). A change refused before it reaches the log (store
    /// failed, or the PostgreSQL backlog at its budget) gives its seqs back, so the group's sequence has no hole.
    /// </summary>
    private Task CommitGroupChangeAsync(GroupState g, ulong seqBefore, WalEntry entry)
    {
        var commit = _store.CommitAsync(entry);
        if (commit.IsFaulted) g.AssignedSeq = seqBefore;
        return commit;
    }

    /// <summary>Writes a group change through to PostgreSQL (when configured); on failure gives its seqs back.</summary>
    private async Task WriteThroughAsync(GroupState g, List<Mutation> mutations, ulong seqBefore)
    {
        try
        {
            await _store.WriteThroughAsync(mutations);
        }
        catch
        {
            g.AssignedSeq = seqBefore;
            throw;
        }
    }

    private EventRecord NewEvent(GroupState g, byte kind, Guid actor, string? clientMsgId = null, string? body = null, ulong? target = null, Guid? by = null)
        => new(g.Record.Id, ++g.AssignedSeq, Guid.CreateVersion7(), kind, actor, NowMs, clientMsgId, body, target, null, false, by);

    private static void AddEvent(List<Mutation> mutations, EventRecord ev)
    {
        mutations.Add(new Mutation(StoreKeys.ForEvent(ev.GroupId, ev.Seq), RecordCodec.Encode(ev)));
        mutations.Add(new Mutation(StoreKeys.ForGroupSeq(ev.GroupId), RecordCodec.EncodeUInt64(ev.Seq)));
    }

    /// <summary>The member record to write: the decided read position (which may be ahead of memory while sends commit).</summary>
    private static MemberRecord WithReadSeq(GroupState g, MemberRecord m)
        => g.ReadPositions.TryGetValue(m.UserId, out var read) ? m with { ReadSeq = read } : m;

    private Result<GroupState> Find(Guid caller, Guid groupId, Need need)
    {
        if (!_state.Groups.TryGetValue(groupId, out var g)) return ChatError.NotFound("no such group");
        var role = RoleOf(g, caller);
        if (role is null)
        {
            if (g.Record.IsPrivate) return ChatError.NotFound("no such group");
            return need == Need.Read ? g : ChatError.Forbidden("not a member of this group");
        }

        return need switch
        {
            Need.Admin when role == Roles.Member => ChatError.Forbidden("only the owner or an admin may do this"),
            Need.Owner when role != Roles.Owner => ChatError.Forbidden("only the owner may do this"),
            _ => g,
        };
    }

    private static byte? RoleOf(GroupState g, Guid userId)
    {
        lock (g) return g.Members.TryGetValue(userId, out var m) ? m.Role : null;
    }

    private static bool IsMember(GroupState g, Guid userId)
    {
        lock (g) return g.Members.ContainsKey(userId);
    }

    private MemberView? MemberOf(GroupState g, Guid userId)
    {
        lock (g) return g.Members.TryGetValue(userId, out var m) ? new MemberView(m, DisplayName(userId)) : null;
    }

    private string DisplayName(Guid userId) => _state.Users.TryGetValue(userId, out var u) ? u.Record.DisplayName : string.Empty;

    internal GroupView View(GroupState g, Guid caller)
    {
        lock (g)
        {
            if (g.Members.TryGetValue(caller, out var m))
            {
                return new GroupView(g.Record, g.Members.Count, g.LastSeq, m.Role, m.ReadSeq, g.CountMessagesAfter(m.ReadSeq, g.LastSeq));
            }

            return new GroupView(g.Record, g.Members.Count, g.LastSeq, null, null, null);
        }
    }

    private static SortedSet<Guid> ViewAfter(SortedSet<Guid> set, Guid after)
        => UuidOrder.Instance.Compare(after, MaxUuid) >= 0 ? new SortedSet<Guid>(UuidOrder.Instance) : set.GetViewBetween(after, MaxUuid);

    private sealed class NullChatEvents : IChatEvents
    {
        public static readonly NullChatEvents Instance = new();

        public void EventCommitted(GroupState group, EventRecord ev)
        {
        }

        public void MemberAdded(GroupState group, Guid userId)
        {
        }

        public void MemberRemoved(GroupState group, Guid userId)
        {
        }

        public void LoginsRevoked(IReadOnlyList<Guid> loginIds)
        {
        }

        public void ReadUpTo(GroupState group, Guid userId, ulong seq, object? originSession)
        {
        }

        public void Typing(GroupState group, Guid userId, object? originSession)
        {
        }
    }
}
