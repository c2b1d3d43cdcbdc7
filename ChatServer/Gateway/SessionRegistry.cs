using System.Collections.Concurrent;
using ChatServer.Chat;
using ChatServer.Hosting;
using ChatServer.Storage;

namespace ChatServer.Gateway;

/// <summary>
/// The node's sessions by user, and the delivery side of the services: encodes each event once and hands
/// the same frame to every session of every member (PROTOCOL.md §4).
/// </summary>
internal sealed class SessionRegistry : IChatEvents
{
    private readonly ConcurrentDictionary<Guid, ChatSession[]> _byUser = new();
    private readonly ConcurrentDictionary<ChatSession, byte> _all = new();
    private readonly ChatState _state;
    private readonly ChatOptions _options;
    private readonly Metrics _metrics;

    public SessionRegistry(ChatState state, ChatOptions options, Metrics metrics)
    {
        _state = state;
        _options = options;
        _metrics = metrics;
    }

    public int Count => _all.Count;

    public ICollection<ChatSession> All => _all.Keys;

    public void Add(ChatSession session)
    {
        _all[session] = 0;
        _byUser.AddOrUpdate(session.UserId, static (_, s) => [s], static (_, list, s) => [.. list, s], session);
        _metrics.SessionOpened();
    }

    public void Remove(ChatSession session)
    {
        if (!_all.TryRemove(session, out _)) return;
        _metrics.SessionClosed();
        while (_byUser.TryGetValue(session.UserId, out var list))
        {
            var index = Array.IndexOf(list, session);
            if (index < 0) return;
            if (list.Length == 1)
            {
                if (_byUser.TryRemove(new KeyValuePair<Guid, ChatSession[]>(session.UserId, list))) return;
                continue;
            }

            var next = new ChatSession[list.Length - 1];
            Array.Copy(list, 0, next, 0, index);
            Array.Copy(list, index + 1, next, index, list.Length - index - 1);
            if (_byUser.TryUpdate(session.UserId, next, list)) return;
        }
    }

    public bool TryGetMemberGroup(Guid groupId, Guid userId, out GroupState group)
    {
        if (_state.Groups.TryGetValue(groupId, out group!))
        {
            lock (group) return group.Members.ContainsKey(userId);
        }

        return false;
    }

    public void EventCommitted(GroupState group, EventRecord ev)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        byte[]? frame = null;
        var groupId = group.Record.Id;

        // Runs on the committer, the only writer of Members/MemberOrder: reading them needs no lock. Walk whichever
        // is smaller — the group's members, or the users online on this node — so a large group with few members
        // online (or a small group on a busy node) costs what it delivers.
        var members = group.Members;
        if (_byUser.Count < members.Count)
        {
            foreach (var (userId, sessions) in _byUser)
            {
                if (!members.ContainsKey(userId)) continue;
                frame ??= WireRecords.EventPush(ev);
                foreach (var s in sessions) s.PushEvent(groupId, ev.Seq, frame);
            }
        }
        else
        {
            // The member dictionary, not the sorted MemberOrder: fan-out needs no order, and a tree walk costs more.
            foreach (var member in members.Keys)
            {
                if (!_byUser.TryGetValue(member, out var sessions)) continue;
                frame ??= WireRecords.EventPush(ev);
                foreach (var s in sessions) s.PushEvent(groupId, ev.Seq, frame);
            }
        }

        _metrics.FanoutLatency(started);
    }

    public void MemberAdded(GroupState group, Guid userId)
    {
    }

    public void MemberRemoved(GroupState group, Guid userId)
    {
    }

    public void LoginsRevoked(IReadOnlyList<Guid> loginIds)
    {
        var set = new HashSet<Guid>(loginIds);
        foreach (var s in _all.Keys)
        {
            if (s.IsAuthenticated && set.Contains(s.LoginId))
            {
                _ = s.CloseAsync(Protocol.ChatCloseCodes.TokenExpiredOrRevoked, "token revoked", "token_revoked");
            }
        }
    }

    public void ReadUpTo(GroupState group, Guid userId, ulong seq, object? originSession)
    {
        byte[]? frame = null;
        if (_byUser.TryGetValue(userId, out var own))
        {
            foreach (var s in own)
            {
                if (ReferenceEquals(s, originSession)) continue;
                frame ??= WireRecords.ReadUpToPush(group.Record.Id, userId, seq);
                s.PushEphemeral(frame);
            }
        }

        Guid[] others;
        lock (group)
        {
            if (group.Members.Count > _options.FanoutLimit) return;
            others = [.. group.MemberOrder];
        }

        foreach (var member in others)
        {
            if (member == userId || !_byUser.TryGetValue(member, out var sessions)) continue;
            frame ??= WireRecords.ReadUpToPush(group.Record.Id, userId, seq);
            foreach (var s in sessions) s.PushEphemeral(frame);
        }
    }

    public void Typing(GroupState group, Guid userId, object? originSession)
    {
        Guid[] members;
        lock (group) members = [.. group.MemberOrder];
        byte[]? frame = null;
        foreach (var member in members)
        {
            if (member == userId || !_byUser.TryGetValue(member, out var sessions)) continue;
            frame ??= WireRecords.TypingPush(group.Record.Id, userId);
            foreach (var s in sessions) s.PushEphemeral(frame);
        }
    }

    /// <summary>Graceful stop: Goodbye server_shutdown and close 1001 to every session, waiting a short while for the closes.</summary>
    public async Task ShutdownAsync()
    {
        var closing = new List<Task>();
        foreach (var s in _all.Keys)
        {
            closing.Add(s.CloseAsync(1001, "server shutdown", "server_shutdown"));
        }

        await Task.WhenAny(Task.WhenAll(closing), Task.Delay(TimeSpan.FromSeconds(3)));
    }
}
