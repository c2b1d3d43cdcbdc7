using System.Text.Json.Serialization;

namespace ChatServer.Client;

/// <summary>
/// A group as seen by the caller (wire: <c>[groupId, name, description, private, ownerId, createdAtMs,
/// memberCount, lastSeq, myRole, myReadSeq, unread]</c>).
/// </summary>
/// <param name="GroupId">The group's id.</param>
/// <param name="Name">The group's name (1–100 chars).</param>
/// <param name="Description">The description; empty when none was given.</param>
/// <param name="IsPrivate">Whether the group is private (JSON key <c>private</c>).</param>
/// <param name="OwnerId">The current owner.</param>
/// <param name="CreatedAtMs">Creation time, ms since the Unix epoch.</param>
/// <param name="MemberCount">Number of members.</param>
/// <param name="LastSeq">The seq of the newest event in the group's log.</param>
/// <param name="MyRole">The caller's role (<see cref="ChatRoles"/>), or null when the caller is not a member.</param>
/// <param name="MyReadSeq">The caller's read position, or null when the caller is not a member.</param>
/// <param name="Unread">Kind-1 events after <paramref name="MyReadSeq"/>, or null when the caller is not a member.</param>
public sealed record Group(
    Guid GroupId,
    string Name,
    string Description,
    [property: JsonPropertyName("private")] bool IsPrivate,
    Guid OwnerId,
    long CreatedAtMs,
    long MemberCount,
    long LastSeq,
    string? MyRole,
    long? MyReadSeq,
    long? Unread);
