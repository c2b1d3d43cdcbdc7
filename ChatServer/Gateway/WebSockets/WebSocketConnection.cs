using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace ChatServer.Gateway.WebSockets;

/// <summary>
/// A server-side RFC 6455 connection over a Kestrel transport. One task receives (<see cref="ReceiveAsync"/>), any
/// thread sends (<see cref="TrySend"/>), one writer loop batches the queued frames onto the transport.
/// Split by concern: handshake here, <c>.Receive.cs</c>, <c>.Send.cs</c>, <c>.Close.cs</c>.
/// </summary>
internal sealed partial class WebSocketConnection : IAsyncDisposable
{
    private readonly ConnectionContext _context;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly WebSocketOptions _options;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WebSocketConnection(ConnectionContext context, WebSocketOptions options, TimeProvider time, HandshakeRequest request)
    {
        _context = context;
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        _options = options;
        _time = time;
        Request = request;
        long now = time.GetTimestamp();
        _lastReceived = now;
        _lastDrain = now;
        _writerTask = WriterLoopAsync();
    }

    public HandshakeRequest Request { get; }

    /// <summary>Completes when the transport is closed (after the close handshake, a timeout, an abort or a transport failure).</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Reads and validates the HTTP/1.1 upgrade request (bounded in bytes, header lines and time) and answers it.
    /// Returns null when the handshake failed: the error response (if any) is written and the transport completed.
    /// Cancellation of <paramref name="cancellationToken"/> also ends in null rather than an exception.
    /// </summary>
    public static async ValueTask<WebSocketConnection?> AcceptAsync(ConnectionContext context, WebSocketOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        PipeReader input = context.Transport.Input;
        PipeWriter output = context.Transport.Output;
        using var timeout = new CancellationTokenSource(options.HandshakeTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);

        int status;
        HttpUpgradeRequest? request = null;
        try
        {
            (status, request) = await ReadRequestAsync(input, options, linked.Token);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            status = timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested ? 408 : 0;
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            status = 0;
        }

        HandshakeRequest accepted = default;
        if (request is not null)
        {
            status = HandshakeParser.Validate(request, options, out accepted);
        }

        if (status == 101)
        {
            HandshakeParser.WriteSwitchingProtocols(output, request!.Key!, accepted.OffersSubProtocol ? options.SubProtocol : null);
            if (await TryFlushAsync(output, linked.Token))
            {
                return new WebSocketConnection(context, options, time, accepted);
            }
        }
        else if (status != 0)
        {
            HandshakeParser.WriteError(output, status);
            await TryFlushAsync(output, linked.Token);
        }

        await output.CompleteAsync();
        await input.CompleteAsync();
        return null;
    }

    private static async ValueTask<(int Status, HttpUpgradeRequest? Request)> ReadRequestAsync(PipeReader input, WebSocketOptions options, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition consumed = buffer.Start;
            SequencePosition examined = buffer.End;
            try
            {
                if (result.IsCanceled)
                {
                    return (0, null);
                }

                ReadOnlySequence<byte> remaining = buffer;
                OperationStatus parsed = HandshakeParser.TryParse(ref remaining, options, out HttpUpgradeRequest? request);
                if (parsed == OperationStatus.Done)
                {
                    consumed = remaining.Start;
                    examined = consumed;
                    return (0, request);
                }

                if (parsed == OperationStatus.InvalidData)
                {
                    return (request!.ErrorStatus, null);
                }

                if (result.IsCompleted)
                {
                    // The peer ended inside the request head.
                    return (buffer.IsEmpty ? 0 : 400, null);
                }
            }
            finally
            {
                input.AdvanceTo(consumed, examined);
            }
        }
    }

    private static async ValueTask<bool> TryFlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        try
        {
            FlushResult flushed = await output.FlushAsync(cancellationToken);
            return !flushed.IsCanceled && !flushed.IsCompleted;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            return false;
        }
    }

    /// <summary>Errors that mean the peer or the socket is gone: they end the connection, they are not bugs.</summary>
    private static bool IsTransportFailure(Exception ex)
        => ex is IOException or SocketException or ConnectionAbortedException or ObjectDisposedException;

    /// <summary>Aborts the transport if it is still open, waits for it to close and returns the pooled receive buffer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_completion.Task.IsCompleted)
        {
            Abort();
        }

        await _completion.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _readLock.WaitAsync();
        try
        {
            ReleaseMessageBuffer();
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <summary>
    /// Echo mode for conformance testing of the framing layer (Autobahn-style): every text or binary message goes back
    /// with the same type; the close handshake follows RFC 6455. Returns when the transport is closed.
    /// </summary>
    public async Task RunEchoAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            WebSocketMessage message = await ReceiveAsync(cancellationToken);
            if (message.Type == WebSocketMessageType.Close)
            {
                break;
            }

            if (!TrySend(WebSocketFrames.Frame((byte)message.Type, message.Payload.Span), droppable: false))
            {
                break;
            }
        }

        await Completion;
    }
}
