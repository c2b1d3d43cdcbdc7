namespace ChatServer.Chat;

internal sealed class ChatOptions
{
    /// <summary>Body limit in UTF-8 bytes (PROTOCOL.md §7: 16 KiB).</summary>
    public int MaxBodyBytes { get; init; } = 16 * 1024;

    /// <summary>Sends per user per second (token bucket refill), PROTOCOL.md §7.</summary>
    public double SendRatePerSecond { get; init; } = 20;

    /// <summary>Burst of the send token bucket, PROTOCOL.md §7.</summary>
    public int SendBurst { get; init; } = 50;

    /// <summary>Groups above this size get no Typing and no ReadUpTo to other members (PROTOCOL.md §4: 1,000).</summary>
    public int FanoutLimit { get; init; } = 1000;

    /// <summary>Resume replays at most this many events per group (PROTOCOL.md §5.4: 1,000).</summary>
    public int ResumeLimit { get; init; } = 1000;

    /// <summary>Typing notices per user and group at most every this often.</summary>
    public TimeSpan TypingInterval { get; init; } = TimeSpan.FromSeconds(1);
}
