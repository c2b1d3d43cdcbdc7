namespace ChatServer.Auth;

/// <summary>What a valid access token says: whose it is, which login issued it, its own id and lifetime (Unix ms).</summary>
/// <param name="UserId">The <c>sub</c> claim.</param>
/// <param name="LoginId">The <c>sid</c> claim: the id of the refresh-token chain (one sign-in) the token was issued from.</param>
/// <param name="TokenId">The <c>jti</c> claim.</param>
/// <param name="IssuedAtMs">The <c>iat</c> claim in ms.</param>
/// <param name="ExpiresAtMs">The <c>exp</c> claim in ms.</param>
internal readonly record struct AccessTokenClaims(Guid UserId, Guid LoginId, Guid TokenId, long IssuedAtMs, long ExpiresAtMs);
