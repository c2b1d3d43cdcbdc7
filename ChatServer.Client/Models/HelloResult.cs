namespace ChatServer.Client;

/// <summary>The reply to Hello.</summary>
/// <param name="UserId">The authenticated user.</param>
/// <param name="SessionId">This connection's session id.</param>
/// <param name="HeartbeatMs">The server's ping interval.</param>
/// <param name="ServerTimeMs">The server's clock, ms since the Unix epoch.</param>
/// <param name="MaxFrameBytes">The largest message the server accepts.</param>
public sealed record HelloResult(Guid UserId, Guid SessionId, long HeartbeatMs, long ServerTimeMs, long MaxFrameBytes);
