namespace ChatServer.Gateway.WebSockets;

internal sealed partial class WebSocketConnection
{
    private int _closeStarted;
    private int _shutdownStarted;
    private volatile bool _aborted;

    /// <summary>
    /// Starts the close handshake: queues a close frame after everything queued before it, refuses further sends, waits
    /// up to <see cref="WebSocketOptions.CloseTimeout"/> for the peer's close frame (read by a concurrent ReceiveAsync,
    /// or here when none is running), then closes the transport. Idempotent: later calls return <see cref="Completion"/>.
    /// </summary>
    public Task CloseAsync(ushort code, string? reason = null)
        => StartClose(WebSocketFrames.CloseFrame(code, reason), waitForPeer: true);

    /// <summary>Closes the transport now, without a close handshake.</summary>
    public void Abort()
    {
        if (!_completion.Task.IsCompleted)
        {
            _ = ShutdownAsync(abortive: true);
        }
    }

    private Task StartClose(byte[] frame, bool waitForPeer)
    {
        if (Interlocked.Exchange(ref _closeStarted, 1) != 0)
        {
            return _completion.Task;
        }

        return CloseCoreAsync(frame, waitForPeer);
    }

    private async Task CloseCoreAsync(byte[] frame, bool waitForPeer)
    {
        bool clean = false;
        if (TrySendLast(frame))
        {
            using var timeout = new CancellationTokenSource(_options.CloseTimeout, _time);
            if (waitForPeer)
            {
                await WaitForPeerCloseAsync(timeout.Token);
            }

            // The writer loop ends once our close frame is flushed.
            await _writerTask.WaitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // Clean when our close frame went out, also if the peer never answered it: a FIN, not a reset.
            clean = _writerTask.IsCompletedSuccessfully && !_aborted;
        }

        await ShutdownAsync(abortive: !clean);
    }

    /// <summary>Until the peer's close frame (or the end of input) is read: by a running ReceiveAsync, or by draining here.</summary>
    private async Task WaitForPeerCloseAsync(CancellationToken timeout)
    {
        if (_readDone)
        {
            return;
        }

        try
        {
            await _readLock.WaitAsync(timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return;
        }

        try
        {
            if (!_readDone)
            {
                // Data frames after our close are skipped, so the payload the application holds stays intact.
                await ReadNextAsync(discard: true, timeout);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The peer did not answer in time: the caller closes the transport.
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <summary>Closes the transport once; abortive skips what is still queued and cuts the connection.</summary>
    private Task ShutdownAsync(bool abortive)
    {
        if (abortive && !_aborted)
        {
            _aborted = true;
            _output.CancelPendingFlush();
            _input.CancelPendingRead();
            _context.Abort();
            _signal.Set();
        }

        if (Interlocked.Exchange(ref _shutdownStarted, 1) == 0)
        {
            _ = ShutdownCoreAsync();
        }

        return _completion.Task;
    }

    private async Task ShutdownCoreAsync()
    {
        lock (_queueLock)
        {
            _sendClosed = true;
        }

        _signal.Set();
        _room.Set();
        await _writerTask.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _output.CompleteAsync();

        _input.CancelPendingRead();
        await _readLock.WaitAsync();
        try
        {
            if (!_readDone)
            {
                FinishReading(WebSocketCloseCodes.Abnormal);
            }

            await _input.CompleteAsync();
        }
        finally
        {
            _readLock.Release();
        }

        if (_writerTask.Exception?.InnerException is { } error)
        {
            _completion.TrySetException(error);
        }
        else
        {
            _completion.TrySetResult();
        }
    }
}
