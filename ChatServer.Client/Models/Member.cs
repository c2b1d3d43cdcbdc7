namespace ChatServer.Client;

/// <summary>A member of a group (wire: <c>[userId, displayName, role, joinedAtMs, readSeq]</c>).</summary>
/// <param name="UserId">The member's user id.</param>
/// <param name="DisplayName">The member's display name.</param>
/// <param name="Role">One of <see cref="ChatRoles"/>.</param>
/// <param name="JoinedAtMs">When the user joined, ms since the Unix epoch.</param>
/// <param name="ReadSeq">The member's read position.</param>
public sealed record Member(Guid UserId, string DisplayName, string Role, long JoinedAtMs, long ReadSeq);
