using System.Net.Sockets;
using System.Runtime.InteropServices;
using ChatServer.Chat;
using ChatServer.Gateway.WebSockets;
using ChatServer.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using WebSocketOptions = ChatServer.Gateway.WebSockets.WebSocketOptions;

namespace ChatServer.Gateway;

/// <summary>The gateway listener: our own RFC 6455 handshake and framing, then a <see cref="ChatSession"/> (or echo, for conformance tests).</summary>
internal sealed class GatewayConnectionHandler : ConnectionHandler
{
    /// <summary>
    /// Unsent bytes the kernel may hold per connection (TCP_NOTSENT_LOWAT). Without it Linux autotunes the send buffer
    /// to megabytes on fast links, which both hides a stalled peer from the outbound limit and makes a slowly reading
    /// peer look stalled (the socket becomes writable only after it has read about half of that). 16 KiB is the value
    /// commonly used by HTTP/2 servers; data in flight within the peer's window is not limited by it.
    /// </summary>
    private const int UnsentLimitBytes = 16 * 1024;
    private const int IpProtoTcp = 6;
    private const int TcpNotSentLowat = 25;

    private readonly GatewayOptions _options;
    private readonly WebSocketOptions _wsOptions;
    private readonly SessionRegistry _registry;
    private readonly AccountService _accounts;
    private readonly GroupService _groups;
    private readonly ChatOptions _chatOptions;
    private readonly TimeProvider _time;
    private readonly Metrics _metrics;
    private readonly IHostApplicationLifetime _lifetime;

    public GatewayConnectionHandler(GatewayOptions options, SessionRegistry registry, AccountService accounts, GroupService groups,
        ChatOptions chatOptions, TimeProvider time, Metrics metrics, IHostApplicationLifetime lifetime)
    {
        _options = options;
        _registry = registry;
        _accounts = accounts;
        _groups = groups;
        _chatOptions = chatOptions;
        _time = time;
        _metrics = metrics;
        _lifetime = lifetime;
        _wsOptions = new WebSocketOptions
        {
            MaxMessageBytes = options.MaxMessageBytes,
            // One frame per 64 bytes of the largest message, at least 1,024 (the conformance suites fragment 4 MiB
            // into 64-byte frames).
            MaxFragments = Math.Max(1024, options.MaxMessageBytes / 64),
            AllowedOrigins = options.AllowedOrigins,
            OutboundLimitBytes = options.OutboundLimitBytes,
            RejectText = !options.Echo,
            // Conformance suites connect to ws://host:port/ unless told otherwise; the echo endpoint serves any path.
            RequestPath = options.Echo ? null : "/v1/ws",
        };
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        _metrics.ConnectionOpened();
        LimitUnsentBytes(connection);
        try
        {
            var ws = await WebSocketConnection.AcceptAsync(connection, _wsOptions, _time, connection.ConnectionClosed);
            if (ws is null) return;
            await using (ws)
            {
                if (_options.Echo)
                {
                    await ws.RunEchoAsync(connection.ConnectionClosed);
                    return;
                }

                var session = new ChatSession(ws, _registry, _accounts, _groups, _options, _chatOptions, _time, _metrics);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
                var run = session.RunAsync(stop.Token);
                await Task.WhenAny(run, ws.Completion);
                await stop.CancelAsync();
                await run;
                await ws.Completion;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ConnectionResetException)
        {
        }
        finally
        {
            _metrics.ConnectionClosed();
        }
    }

    private static void LimitUnsentBytes(ConnectionContext connection)
    {
        if (!OperatingSystem.IsLinux() || connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket) return;
        Span<byte> value = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(value, UnsentLimitBytes);
        try
        {
            socket.SetRawSocketOption(IpProtoTcp, TcpNotSentLowat, value);
        }
        catch (SocketException)
        {
            // A kernel without the option (before 3.12) keeps its default buffering; the connection works the same.
        }
    }
}
