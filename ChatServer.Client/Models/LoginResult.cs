namespace ChatServer.Client;

/// <summary>The tokens of a login or refresh (<c>POST /v1/sessions</c>, <c>POST /v1/sessions/refresh</c>).</summary>
/// <param name="AccessToken">Bearer token for HTTP and for WebSocket Hello/Reauth.</param>
/// <param name="RefreshToken">Single-use token for <c>POST /v1/sessions/refresh</c> (it rotates).</param>
/// <param name="ExpiresIn">Lifetime of <paramref name="AccessToken"/> in seconds.</param>
/// <param name="UserId">The logged-in user.</param>
public sealed record LoginResult(string AccessToken, string RefreshToken, long ExpiresIn, Guid UserId);
