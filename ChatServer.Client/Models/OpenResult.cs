namespace ChatServer.Client;

/// <summary>A group with its newest events, consistent at <c>Group.LastSeq</c>.</summary>
/// <param name="Group">The group.</param>
/// <param name="Events">The newest events in ascending seq, in current state.</param>
/// <param name="HasMore">Whether older events exist.</param>
public sealed record OpenResult(Group Group, IReadOnlyList<GroupEvent> Events, bool HasMore);
