using System.Net.WebSockets;
using System.Threading.Channels;

namespace ChatServer.Client;

/// <summary>
/// A WebSocket connection speaking the binary chat protocol (<c>chat.v1</c>).
/// </summary>
/// <remarks>
/// <para>Requests are safe to issue concurrently: each gets the next rid (never 0) and completes when the
/// reply with that rid arrives, in whatever order replies come. Error replies throw
/// <see cref="ChatApiException"/>; a closed connection throws <see cref="ChatConnectionClosedException"/>;
/// a reply the client cannot decode throws <see cref="ChatProtocolException"/>; no reply within
/// <see cref="ChatSocketOptions.RequestTimeout"/> throws <see cref="TimeoutException"/>.</para>
/// <para>A background loop receives every message (reassembling fragments), completes requests and writes
/// pushes, in arrival order, to <see cref="Pushes"/>. When the connection ends, <see cref="Pushes"/>
/// completes, pending requests fail and <see cref="Closed"/> completes with the close code.</para>
/// </remarks>
public sealed partial class ChatSocket : IAsyncDisposable
{
    /// <summary>The protocol's WebSocket subprotocol.</summary>
    public const string SubProtocolName = "chat.v1";

    /// <summary>The request path of the gateway.</summary>
    public const string RequestPath = "/v1/ws";

    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _webSocket;
    private readonly ChatSocketOptions _options;
    private readonly Channel<ServerPush> _pushes =
        Channel.CreateUnbounded<ServerPush>(new UnboundedChannelOptions { SingleWriter = true });

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource<int?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _receiveLoop;
    private readonly TimeProvider _timeProvider;
    private readonly long _requestTimeoutTicks;
    private readonly ITimer? _timeoutSweep;
    private uint _lastRid;
    private int _disposed;

    private ChatSocket(WebSocket webSocket, ChatSocketOptions options)
    {
        _webSocket = webSocket;
        _options = options;
        _timeProvider = options.TimeProvider;
        TimeSpan timeout = options.RequestTimeout;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            _requestTimeoutTicks = long.MaxValue;
        }
        else
        {
            _requestTimeoutTicks = (long)(timeout.TotalSeconds * _timeProvider.TimestampFrequency);
            TimeSpan period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 4, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond));
            _timeoutSweep = _timeProvider.CreateTimer(static state => ((ChatSocket)state!).SweepTimeouts(), this, period, period);
        }

        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Pushed events and unexpected frames, in arrival order. Completes when the connection ends.</summary>
    public ChannelReader<ServerPush> Pushes => _pushes.Reader;

    /// <summary>Completes when the connection has ended, with the close code received (null when there was none).</summary>
    public Task<int?> Closed => _closed.Task;

    /// <summary>The close code the server sent, once the connection has ended; null before, or when it ended without one.</summary>
    public int? CloseStatus { get; private set; }

    /// <summary>The close reason the server sent, once the connection has ended.</summary>
    public string? CloseDescription { get; private set; }

    /// <summary>The subprotocol the server selected (null when none).</summary>
    public string? SubProtocol => _webSocket.SubProtocol;

    /// <summary>The state of the underlying WebSocket.</summary>
    public WebSocketState State => _webSocket.State;

    /// <summary>
    /// Opens a connection. <paramref name="uri"/> is either the gateway's base address
    /// (<c>http://host:port</c>, <c>ws://host:port</c>: the path <c>/v1/ws</c> is added) or a full
    /// <c>ws://</c>/<c>wss://</c> URI with a path, used as given; <c>http</c>/<c>https</c> become
    /// <c>ws</c>/<c>wss</c>. Hello is not sent: call <see cref="HelloAsync"/> next.
    /// </summary>
    /// <param name="uri">The gateway address.</param>
    /// <param name="options">Settings; null for <see cref="ChatSocketOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the upgrade.</param>
    /// <returns>The open connection.</returns>
    /// <exception cref="ChatHandshakeException">The upgrade failed or was refused.</exception>
    public static async Task<ChatSocket> ConnectAsync(
        Uri uri, ChatSocketOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= ChatSocketOptions.Default;
        Validate(options);
        var webSocket = new ClientWebSocket();
        try
        {
            if (options.SubProtocol is { } subProtocol)
            {
                webSocket.Options.AddSubProtocol(subProtocol);
            }

            if (options.Origin is { } origin)
            {
                webSocket.Options.SetRequestHeader("Origin", origin);
            }

            webSocket.Options.CollectHttpResponseDetails = true;
            options.ConfigureWebSocket?.Invoke(webSocket.Options);
            try
            {
                await webSocket.ConnectAsync(ToWebSocketUri(uri), cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketException e)
            {
                int status = (int)webSocket.HttpStatusCode;
                throw new ChatHandshakeException(status == 0 ? null : status, e);
            }
        }
        catch
        {
            webSocket.Dispose();
            throw;
        }

        return new ChatSocket(webSocket, options);
    }

    /// <summary>
    /// Runs the protocol over an already open WebSocket (for instance one made by a test server, or
    /// <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>). The connection owns it from now on.
    /// </summary>
    /// <param name="webSocket">The open WebSocket.</param>
    /// <param name="options">Settings (the handshake ones are ignored); null for the defaults.</param>
    /// <returns>The connection.</returns>
    public static ChatSocket Attach(WebSocket webSocket, ChatSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(webSocket);
        options ??= ChatSocketOptions.Default;
        Validate(options);
        return new ChatSocket(webSocket, options);
    }

    /// <summary>Maps a gateway address to the WebSocket URI <see cref="ConnectAsync"/> connects to.</summary>
    /// <param name="uri">A base address or a full WebSocket URI.</param>
    /// <returns>The <c>ws</c>/<c>wss</c> URI.</returns>
    public static Uri ToWebSocketUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var builder = new UriBuilder(uri);
        builder.Scheme = builder.Scheme switch
        {
            "http" => "ws",
            "https" => "wss",
            "ws" or "wss" => builder.Scheme,
            _ => throw new ArgumentException($"Unsupported scheme '{builder.Scheme}'.", nameof(uri)),
        };
        if (builder.Path is "" or "/")
        {
            builder.Path = RequestPath;
        }

        return builder.Uri;
    }

    /// <summary>The next request id: increments, skipping 0 (which means "no reply wanted").</summary>
    /// <returns>The rid.</returns>
    public uint NextRid()
    {
        uint rid;
        do
        {
            rid = Interlocked.Increment(ref _lastRid);
        }
        while (rid == 0);
        return rid;
    }

    /// <summary>
    /// Starts the close handshake and waits for the server's close (up to
    /// <see cref="ChatSocketOptions.RequestTimeout"/>, then the connection is aborted).
    /// </summary>
    /// <param name="status">The close code to send.</param>
    /// <param name="description">The close reason to send.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The close code the server answered with (see <see cref="Closed"/>).</returns>
    public async Task<int?> CloseAsync(
        int status = ChatCloseCodes.Normal, string? description = null, CancellationToken cancellationToken = default)
    {
        if (!_closed.Task.IsCompleted)
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await _webSocket.CloseOutputAsync((WebSocketCloseStatus)status, description, cancellationToken)
                        .ConfigureAwait(false);
                }
            }
            catch (Exception e) when (IsTransportError(e))
            {
                // The connection is already gone; the receive loop completes Closed.
            }
            finally
            {
                _sendLock.Release();
            }
        }

        try
        {
            return await _closed.Task.WaitAsync(_options.RequestTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _webSocket.Abort();
            return await _closed.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Drops the connection at once, without a close handshake.</summary>
    public void Abort() => _webSocket.Abort();

    /// <summary>Closes the connection (handshake with a short timeout, else abort) and releases it.</summary>
    /// <returns>A task that completes when the receive loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_closed.Task.IsCompleted && _webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(CloseHandshakeTimeout);
            try
            {
                await CloseAsync(ChatCloseCodes.Normal, null, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // No answer to the close in time: the abort below ends the connection.
            }
        }

        _webSocket.Abort();
        await _receiveLoop.ConfigureAwait(false);
        _webSocket.Dispose();
        _sendLock.Dispose();
    }

    private static void Validate(ChatSocketOptions options)
    {
        if (options.RequestTimeout != Timeout.InfiniteTimeSpan && options.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "RequestTimeout must be positive or infinite.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReceiveBufferBytes, 256, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxReceiveMessageBytes, options.ReceiveBufferBytes, nameof(options));
        ArgumentNullException.ThrowIfNull(options.TimeProvider, nameof(options));
    }

    private static bool IsTransportError(Exception e) =>
        e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException;
}
