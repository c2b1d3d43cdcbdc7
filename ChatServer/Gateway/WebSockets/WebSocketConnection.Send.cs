using System.Buffers;
using System.IO.Pipelines;

namespace ChatServer.Gateway.WebSockets;

internal sealed partial class WebSocketConnection
{
    // Outbound queue (guarded by _queueLock): producers append to _pending; the writer swaps it with the empty
    // _draining array, so a batch is copied out without holding the lock and without per-frame allocation.
    private readonly Lock _queueLock = new();
    private ReadOnlyMemory<byte>[] _pending = new ReadOnlyMemory<byte>[8];
    private ReadOnlyMemory<byte>[] _draining = new ReadOnlyMemory<byte>[8];
    private int _pendingCount;
    private long _queuedBytes;
    private bool _sendClosed;
    private bool _refused;

    // Set by the reader (under _queueLock) while it waits for the queue to fall to the outbound limit; the writer
    // clears it and signals _room once it has.
    private bool _readPaused;
    private readonly WriterSignal _room = new();

    /// <summary>
    /// Bytes written between flushes within one batch: a quarter of the transport's 64 KiB output buffer (Kestrel's
    /// default pause threshold), so the writer sees progress after the peer has read about one buffer's worth.
    /// </summary>
    private const int FlushChunkBytes = 16 * 1024;

    private readonly WriterSignal _signal = new();
    private readonly Task _writerTask;
    private long _lastDrain;

    /// <summary>Raised on the writer loop when the queue is empty again after a droppable frame was refused.</summary>
    public event Action? Drained;

    /// <summary>Bytes enqueued and not yet handed to the transport.</summary>
    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>Timestamp of the last time the writer's flush to the transport completed.</summary>
    public long LastDrainTimestamp => Volatile.Read(ref _lastDrain);

    /// <summary>
    /// Queues a complete frame (header and payload; never modified, may be shared by many connections).
    /// Droppable frames are refused while more than <see cref="WebSocketOptions.OutboundLimitBytes"/> are queued;
    /// every frame is refused once the connection is closing.
    /// </summary>
    public bool TrySend(ReadOnlyMemory<byte> frame, bool droppable)
    {
        lock (_queueLock)
        {
            if (_sendClosed)
            {
                return false;
            }

            if (droppable && _queuedBytes > _options.OutboundLimitBytes)
            {
                _refused = true;
                return false;
            }

            Append(frame);
        }

        _signal.Set();
        return true;
    }

    /// <summary>Queues a ping frame (not droppable).</summary>
    public void SendPing() => TrySend(WebSocketFrames.PingFrame, droppable: false);

    /// <summary>Queues the last frame (our close frame); nothing is accepted after it.</summary>
    private bool TrySendLast(ReadOnlyMemory<byte> frame)
    {
        lock (_queueLock)
        {
            if (_sendClosed)
            {
                return false;
            }

            Append(frame);
            _sendClosed = true;
        }

        _room.Set();

        _signal.Set();
        return true;
    }

    private void Append(ReadOnlyMemory<byte> frame)
    {
        if (_pendingCount == _pending.Length)
        {
            Array.Resize(ref _pending, _pending.Length * 2);
        }

        _pending[_pendingCount++] = frame;
        _queuedBytes += frame.Length;
    }

    /// <summary>
    /// Waits for frames, copies everything queued into the PipeWriter and flushes every <see cref="FlushChunkBytes"/>
    /// and at the end of the batch. Ends after the last
    /// frame (close) is flushed, on abort, or when the transport fails (which shuts the connection down).
    /// </summary>
    private async Task WriterLoopAsync()
    {
        while (true)
        {
            await _signal.WaitAsync();
            while (true)
            {
                if (_aborted)
                {
                    return;
                }

                ReadOnlyMemory<byte>[] batch;
                int count;
                lock (_queueLock)
                {
                    count = _pendingCount;
                    if (count == 0)
                    {
                        if (_sendClosed)
                        {
                            return;
                        }

                        break;
                    }

                    batch = _pending;
                    _pending = _draining;
                    _draining = batch;
                    _pendingCount = 0;
                }

                // Flush every FlushChunkBytes rather than once per batch. The transport hands everything flushed to
                // the socket in one send that completes only when the peer has read nearly all of it, and each flush
                // completion is the drain progress the slow-consumer check sees: a batch as large as the outbound
                // limit would hide a peer that reads slowly but steadily (PROTOCOL.md §5.5).
                int next = 0;
                while (next < count)
                {
                    long bytes = 0;
                    do
                    {
                        ReadOnlySpan<byte> frame = batch[next].Span;
                        _output.Write(frame);
                        bytes += frame.Length;
                        batch[next] = default;
                        next++;
                    }
                    while (next < count && bytes < FlushChunkBytes);

                    bool drained = false;
                    bool resumeReading = false;
                    lock (_queueLock)
                    {
                        _queuedBytes -= bytes;
                        if (_readPaused && _queuedBytes <= _options.OutboundLimitBytes)
                        {
                            _readPaused = false;
                            resumeReading = true;
                        }

                        if (next == count)
                        {
                            drained = _refused && _queuedBytes == 0;
                            if (drained)
                            {
                                _refused = false;
                            }
                        }
                    }

                    if (resumeReading)
                    {
                        _room.Set();
                    }

                    FlushResult flushed;
                    try
                    {
                        flushed = await _output.FlushAsync();
                    }
                    catch (Exception ex) when (IsTransportFailure(ex))
                    {
                        Array.Clear(batch, next, count - next);
                        _ = ShutdownAsync(abortive: true);
                        return;
                    }

                    Volatile.Write(ref _lastDrain, _time.GetTimestamp());
                    if (flushed.IsCanceled || flushed.IsCompleted)
                    {
                        Array.Clear(batch, next, count - next);
                        _ = ShutdownAsync(abortive: true);
                        return;
                    }

                    if (drained)
                    {
                        Drained?.Invoke();
                    }
                }
            }
        }
    }

    /// <summary>
    /// Waits while more than the outbound limit is queued, so a peer that sends without reading (pings, requests, echo
    /// traffic) cannot grow the queue of replies it never takes: its input stays in the transport (TCP backpressure)
    /// until the writer has drained to the limit. Returns at once once the connection is closing; throws when
    /// <paramref name="cancellationToken"/> fires (a receive deadline such as Hello's still applies).
    /// </summary>
    private async ValueTask WaitForOutboundRoomAsync(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration wake = cancellationToken.UnsafeRegister(static room => ((WriterSignal)room!).Set(), _room);
        while (true)
        {
            lock (_queueLock)
            {
                if (_queuedBytes <= _options.OutboundLimitBytes || _sendClosed)
                {
                    _readPaused = false;
                    return;
                }

                _readPaused = true;
            }

            cancellationToken.ThrowIfCancellationRequested();
            await _room.WaitAsync();
        }
    }
}
