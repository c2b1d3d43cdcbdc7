namespace ChatServer.Client;

/// <summary>A user as the server describes it (wire: <c>[userId, username, displayName]</c>).</summary>
/// <param name="UserId">The user's id.</param>
/// <param name="Username">The unique, lower-case login name.</param>
/// <param name="DisplayName">The name shown to other users.</param>
public sealed record User(Guid UserId, string Username, string DisplayName);
