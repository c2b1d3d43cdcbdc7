namespace ChatServer.Client;

/// <summary>A member's read position moved (push type 7).</summary>
/// <param name="GroupId">The group.</param>
/// <param name="UserId">The reader.</param>
/// <param name="Seq">The new read position.</param>
public sealed record ReadUpToPush(Guid GroupId, Guid UserId, long Seq) : ServerPush;
