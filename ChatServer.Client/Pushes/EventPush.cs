namespace ChatServer.Client;

/// <summary>A group event (push type 1), as appended (live) or in current state (resume replay).</summary>
/// <param name="Event">The event.</param>
public sealed record EventPush(GroupEvent Event) : ServerPush;
