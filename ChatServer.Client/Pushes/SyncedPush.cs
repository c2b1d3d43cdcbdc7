namespace ChatServer.Client;

/// <summary>Every replay asked for in the Hello <c>resume</c> has been sent (push type 9).</summary>
public sealed record SyncedPush : ServerPush
{
    /// <summary>The single instance.</summary>
    public static SyncedPush Instance { get; } = new();
}
