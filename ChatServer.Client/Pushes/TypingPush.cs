namespace ChatServer.Client;

/// <summary>Another member is typing (push type 6).</summary>
/// <param name="GroupId">The group.</param>
/// <param name="UserId">The typing member.</param>
public sealed record TypingPush(Guid GroupId, Guid UserId) : ServerPush;
