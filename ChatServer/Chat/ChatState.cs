using System.Collections.Concurrent;
using ChatServer.Storage;

namespace ChatServer.Chat;

internal sealed class UserState
{
    public UserState(UserRecord record) => Record = record;

    public UserRecord Record { get; set; }

    /// <summary>The user's groups in UUID byte order. Guarded by lock(this).</summary>
    public SortedSet<Guid> Groups { get; } = new(UuidOrder.Instance);
}

/// <summary>
/// One group's in-memory state. Writers of the group take <see cref="Gate"/> (the group's single writer);
/// readers take lock(this) briefly. Memory is changed only after the change is durable, on the committer.
/// </summary>
internal sealed class GroupState
{
    public GroupState(GroupRecord record) => Record = record;

    public GroupRecord Record { get; set; }

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public Dictionary<Guid, MemberRecord> Members { get; } = new();

    public SortedSet<Guid> MemberOrder { get; } = new(UuidOrder.Instance);

    /// <summary>Seq of the newest durable event (visible to readers).</summary>
    public ulong LastSeq { get; set; }

    /// <summary>
    /// True when some of the group's events are known only to PostgreSQL (a node started on an empty or older
    /// data directory): idempotent-send lookups that miss locally then ask PostgreSQL.
    /// </summary>
    public bool HistoryNotAllLocal { get; set; }

    /// <summary>Seq of the newest event handed to the log (≥ LastSeq). Guarded by <see cref="Gate"/>.</summary>
    public ulong AssignedSeq { get; set; }

    /// <summary>Seqs of the message (kind 1) events, ascending, for unread counts.</summary>
    public List<ulong> MessageSeqs { get; } = new();

    /// <summary>Each member's decided read position (ahead of memory while changes commit). Guarded by <see cref="Gate"/>.</summary>
    public Dictionary<Guid, ulong> ReadPositions { get; } = new();

    /// <summary>Sends handed to the log and not yet durable, by (sender, clientMsgId). Guarded by <see cref="Gate"/>.</summary>
    public Dictionary<(Guid Sender, string ClientMsgId), Task<SendOutcome>> PendingSends { get; } = new();

    /// <summary>Counts the message (kind 1) events with seq in (readSeq, lastSeq]. Call under lock(this).</summary>
    public int CountMessagesAfter(ulong readSeq, ulong lastSeq)
    {
        var list = MessageSeqs;
        var lo = UpperBound(list, readSeq);
        var hi = UpperBound(list, lastSeq);
        return Math.Max(0, hi - lo);
    }

    private static int UpperBound(List<ulong> list, ulong value)
    {
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (list[mid] <= value) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }
}

/// <summary>The node's entity graph in memory, loaded from the store at start and kept in step by the services.</summary>
internal sealed class ChatState
{
    private readonly List<MemberRecord> _pendingMembers = new();
    private readonly List<(Guid GroupId, ulong Seq)> _pendingMessages = new();

    public ConcurrentDictionary<Guid, UserState> Users { get; } = new();

    public ConcurrentDictionary<string, Guid> Usernames { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<Guid, GroupState> Groups { get; } = new();

    public ConcurrentDictionary<Guid, LoginRecord> Logins { get; } = new();

    public ConcurrentDictionary<string, Guid> LoginsByRefreshHash { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// With PostgreSQL as the system of record, users, groups, members and logins come from it alone
    /// (<see cref="LoadFromPostgres"/>); the local store still gives seqs and message events.
    /// </summary>
    public bool EntitiesFromPostgres { get; set; }

    /// <summary>Visits one live record of the local store during start-up.</summary>
    public void Load(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (EntitiesFromPostgres && key[0] is StoreKeys.User or StoreKeys.Group or StoreKeys.Member or StoreKeys.Login) return;
        LoadRecord(key, value, fromPostgres: false);
    }

    /// <summary>Visits one record loaded from PostgreSQL during start-up.</summary>
    public void LoadFromPostgres(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => LoadRecord(key, value, fromPostgres: true);

    /// <summary>A message event's seq known to PostgreSQL (for unread counts).</summary>
    public void LoadMessageSeq(Guid groupId, ulong seq) => _pendingMessages.Add((groupId, seq));

    private void LoadRecord(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool fromPostgres)
    {
        switch (key[0])
        {
            case StoreKeys.User:
                var user = RecordCodec.DecodeUser(value.ToArray());
                Users[user.Id] = new UserState(user);
                Usernames[user.Username] = user.Id;
                break;
            case StoreKeys.Group:
                var group = RecordCodec.DecodeGroup(value.ToArray());
                var state = Groups.GetOrAdd(group.Id, static (_, g) => new GroupState(g), group);
                state.Record = group;
                break;
            case StoreKeys.GroupSeq:
                var seqState = Groups.GetOrAdd(StoreKeys.ReadGuid(key, 1), static id => new GroupState(new GroupRecord(id, "", "", false, Guid.Empty, 0)));
                var seq = RecordCodec.DecodeUInt64(value);
                if (fromPostgres && seq > seqState.LastSeq) seqState.HistoryNotAllLocal = true;
                if (seq > seqState.LastSeq) seqState.LastSeq = seqState.AssignedSeq = seq;
                break;
            case StoreKeys.Member:
                _pendingMembers.Add(RecordCodec.DecodeMember(value.ToArray()));
                break;
            case StoreKeys.Event:
                var ev = RecordCodec.DecodeEvent(value.ToArray());
                if (ev.Kind == EventKinds.Message) _pendingMessages.Add((ev.GroupId, ev.Seq));
                break;
            case StoreKeys.Login:
                var login = RecordCodec.DecodeLogin(value.ToArray());
                Logins[login.Id] = login;
                if (!login.Revoked) LoginsByRefreshHash[Convert.ToBase64String(login.RefreshTokenHash)] = login.Id;
                break;
        }
    }

    /// <summary>Links members to groups and users once every record is loaded.</summary>
    public void FinishLoad()
    {
        foreach (var m in _pendingMembers)
        {
            if (!Groups.TryGetValue(m.GroupId, out var g) || !Users.TryGetValue(m.UserId, out var u)) continue;
            g.Members[m.UserId] = m;
            g.MemberOrder.Add(m.UserId);
            g.ReadPositions[m.UserId] = m.ReadSeq;
            u.Groups.Add(m.GroupId);
        }

        _pendingMessages.Sort();
        foreach (var (groupId, seq) in _pendingMessages)
        {
            if (!Groups.TryGetValue(groupId, out var g)) continue;
            if (g.MessageSeqs.Count > 0 && g.MessageSeqs[^1] == seq) continue;
            g.MessageSeqs.Add(seq);
        }

        foreach (var (id, g) in Groups)
        {
            // A seq record without its group record: the group's entity lives elsewhere (not in this system of record).
            if (g.Record.OwnerId == Guid.Empty) Groups.TryRemove(id, out _);
        }

        _pendingMembers.Clear();
        _pendingMessages.Clear();
    }
}
