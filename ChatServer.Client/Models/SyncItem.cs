namespace ChatServer.Client;

/// <summary>One group's state in a Sync reply (wire: <c>[groupId, lastSeq, unread, GroupEvent]</c>).</summary>
/// <param name="GroupId">The group.</param>
/// <param name="LastSeq">The group's newest seq.</param>
/// <param name="Unread">The caller's unread kind-1 events.</param>
/// <param name="NewestEvent">The newest event of any kind, in current state.</param>
public sealed record SyncItem(Guid GroupId, long LastSeq, long Unread, GroupEvent NewestEvent);
