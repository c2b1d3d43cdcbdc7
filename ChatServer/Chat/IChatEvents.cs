using ChatServer.Storage;

namespace ChatServer.Chat;

/// <summary>
/// What the services tell the delivery side (the gateway) about. Group callbacks run on the committer in
/// log order, so a group's events arrive here in strictly increasing seq.
/// </summary>
internal interface IChatEvents
{
    void EventCommitted(GroupState group, EventRecord ev);

    void MemberAdded(GroupState group, Guid userId);

    void MemberRemoved(GroupState group, Guid userId);

    void LoginsRevoked(IReadOnlyList<Guid> loginIds);

    void ReadUpTo(GroupState group, Guid userId, ulong seq, object? originSession);

    void Typing(GroupState group, Guid userId, object? originSession);
}

internal sealed record GroupView(GroupRecord Group, int MemberCount, ulong LastSeq, byte? MyRole, ulong? MyReadSeq, int? Unread);

internal sealed record MemberView(MemberRecord Member, string DisplayName);

internal sealed record Page<T>(IReadOnlyList<T> Items, Guid? NextCursor);

internal sealed record LoginResult(string AccessToken, string RefreshToken, long ExpiresInSeconds, Guid UserId);
