using ChatServer.Chat;
using ChatServer.Gateway.WebSockets;
using ChatServer.Hosting;
using Microsoft.AspNetCore.Connections;
using WebSocketOptions = ChatServer.Gateway.WebSockets.WebSocketOptions;

namespace ChatServer.Gateway;

/// <summary>The gateway listener: our own RFC 6455 handshake and framing, then a <see cref="ChatSession"/> (or echo, for conformance tests).</summary>
internal sealed class GatewayConnectionHandler : ConnectionHandler
{
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
            AllowedOrigins = options.AllowedOrigins,
            OutboundLimitBytes = options.OutboundLimitBytes,
        };
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        _metrics.ConnectionOpened();
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
}
