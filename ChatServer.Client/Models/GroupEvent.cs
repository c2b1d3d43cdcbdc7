namespace ChatServer.Client;

/// <summary>
/// One entry of a group's event log (wire: <c>[groupId, seq, kind, actorId, atMs, clientMsgId, body,
/// targetSeq, editedAtMs, deleted, byUserId]</c>). Fields a kind does not use are null.
/// </summary>
/// <param name="GroupId">The group the event belongs to.</param>
/// <param name="Seq">Position in the group's log, starting at 1.</param>
/// <param name="Kind">What happened.</param>
/// <param name="ActorId">The sender, editor, or the member who joined, left or changed role.</param>
/// <param name="AtMs">When the event was appended, ms since the Unix epoch.</param>
/// <param name="ClientMsgId">The sender's idempotency key (kind 1).</param>
/// <param name="Body">Message text (kinds 1, 2) or the new role (kind 7); empty once deleted.</param>
/// <param name="TargetSeq">The message an edit or delete refers to (kinds 2, 3).</param>
/// <param name="EditedAtMs">When a message was last edited (current-state views only).</param>
/// <param name="Deleted">Whether the message has been deleted (current-state views only).</param>
/// <param name="ByUserId">Who added, removed or re-roled <paramref name="ActorId"/>, when that was someone else.</param>
public sealed record GroupEvent(
    Guid GroupId,
    long Seq,
    EventKind Kind,
    Guid ActorId,
    long AtMs,
    string? ClientMsgId,
    string? Body,
    long? TargetSeq,
    long? EditedAtMs,
    bool Deleted,
    Guid? ByUserId);
