using System.Net.WebSockets;

namespace ChatServer.Client;

/// <summary>Settings of a <see cref="ChatSocket"/>.</summary>
public sealed class ChatSocketOptions
{
    /// <summary>The defaults.</summary>
    public static ChatSocketOptions Default { get; } = new();

    /// <summary>The subprotocol offered in the upgrade; null offers none. Default <c>chat.v1</c>.</summary>
    public string? SubProtocol { get; init; } = ChatSocket.SubProtocolName;

    /// <summary>An <c>Origin</c> header for the upgrade; null sends none (a non-browser client).</summary>
    public string? Origin { get; init; }

    /// <summary>
    /// How long a request waits for its reply before it fails with <see cref="TimeoutException"/>;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits forever. One timer per connection checks deadlines every
    /// quarter of this (at most every second), so a request fails between 1 and 1.25 times this late.
    /// Default 30 s: well above the server's 10 s Hello deadline, so a lost reply fails a test instead of hanging it.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Initial receive buffer; larger messages grow it. Default 16 KiB (one typical burst of pushes).</summary>
    public int ReceiveBufferBytes { get; init; } = 16 * 1024;

    /// <summary>
    /// The largest message accepted from the server. Default 64 MiB: a Sync reply of 500 groups whose newest
    /// events carry 16 KiB bodies is about 8 MiB, so this only stops a runaway peer.
    /// </summary>
    public int MaxReceiveMessageBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Drops pushes instead of queueing them on <see cref="ChatSocket.Pushes"/> (which is unbounded): for
    /// load generators and bots that never read them. Replies are unaffected. Default false.
    /// </summary>
    public bool DiscardPushes { get; init; }

    /// <summary>The clock for request timeouts (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Further settings of the <see cref="ClientWebSocket"/> (headers, proxy, keep-alive…), applied last.</summary>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; init; }
}
