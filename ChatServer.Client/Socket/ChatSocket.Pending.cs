using System.Globalization;
using System.Net.WebSockets;

namespace ChatServer.Client;

public sealed partial class ChatSocket
{
    private readonly Lock _pendingLock = new();
    private readonly Dictionary<uint, PendingRequest> _pending = [];
    private ChatConnectionClosedException? _closedError;

    private async Task<T> RequestAsync<T>(
        PooledBufferWriter frame, uint rid, ReplyReader<T> read, CancellationToken cancellationToken)
    {
        var pending = new PendingRequest<T>(read);
        await SendRequestAsync(frame, rid, pending, cancellationToken).ConfigureAwait(false);
        return await AwaitReplyAsync(pending.Task, rid, pending, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Registers <paramref name="pending"/> (the reply may arrive before the send returns), then sends the frame.</summary>
    private async Task SendRequestAsync(
        PooledBufferWriter frame, uint rid, PendingRequest pending, CancellationToken cancellationToken)
    {
        try
        {
            AddPending(rid, pending);
            try
            {
                await SendFrameAsync(frame.WrittenMemory, WebSocketMessageType.Binary, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch
            {
                RemovePending(rid, pending);
                throw;
            }
        }
        finally
        {
            frame.Dispose();
        }
    }

    private async Task<T> AwaitReplyAsync<T>(
        Task<T> reply, uint rid, PendingRequest pending, CancellationToken cancellationToken)
    {
        TimeSpan timeout = _options.RequestTimeout;
        if (reply.IsCompleted || (timeout == Timeout.InfiniteTimeSpan && !cancellationToken.CanBeCanceled))
        {
            return await reply.ConfigureAwait(false);
        }

        try
        {
            return await reply.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException && !reply.IsCompleted)
        {
            RemovePending(rid, pending);
            if (e is TimeoutException)
            {
                throw new TimeoutException(
                    string.Create(CultureInfo.InvariantCulture, $"No reply to request {rid} within {timeout}."), e);
            }

            throw;
        }
    }

    private async Task SendFrameAsync(
        ReadOnlyMemory<byte> message, WebSocketMessageType messageType, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        try
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException e)
        {
            throw ClosedException(e);
        }

        try
        {
            await _webSocket.SendAsync(message, messageType, endOfMessage: true, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException
            or InvalidOperationException)
        {
            throw ClosedException(e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void ThrowIfClosed()
    {
        lock (_pendingLock)
        {
            if (_closedError is not null)
            {
                throw ClosedException(null);
            }
        }
    }

    private ChatConnectionClosedException ClosedException(Exception? cause)
    {
        lock (_pendingLock)
        {
            return _closedError is { } closed
                ? new ChatConnectionClosedException(closed.CloseStatus, closed.CloseDescription, cause ?? closed.InnerException)
                : new ChatConnectionClosedException((int?)_webSocket.CloseStatus, _webSocket.CloseStatusDescription, cause);
        }
    }

    private void AddPending(uint rid, PendingRequest pending)
    {
        lock (_pendingLock)
        {
            if (_closedError is { } closed)
            {
                throw new ChatConnectionClosedException(closed.CloseStatus, closed.CloseDescription, closed.InnerException);
            }

            if (!_pending.TryGetValue(rid, out PendingRequest? tail))
            {
                _pending.Add(rid, pending);
                return;
            }

            while (tail.Next is { } next)
            {
                tail = next;
            }

            tail.Next = pending;
        }
    }

    /// <summary>Removes and returns the oldest request waiting on <paramref name="rid"/>.</summary>
    private PendingRequest? TakePending(uint rid)
    {
        lock (_pendingLock)
        {
            if (!_pending.Remove(rid, out PendingRequest? head))
            {
                return null;
            }

            if (head.Next is { } next)
            {
                _pending.Add(rid, next);
                head.Next = null;
            }

            return head;
        }
    }

    private void RemovePending(uint rid, PendingRequest pending)
    {
        lock (_pendingLock)
        {
            if (!_pending.TryGetValue(rid, out PendingRequest? head))
            {
                return;
            }

            if (head == pending)
            {
                if (head.Next is { } next)
                {
                    _pending[rid] = next;
                }
                else
                {
                    _pending.Remove(rid);
                }

                pending.Next = null;
                return;
            }

            for (PendingRequest previous = head; previous.Next is { } current; previous = current)
            {
                if (current == pending)
                {
                    previous.Next = current.Next;
                    current.Next = null;
                    return;
                }
            }
        }
    }

    /// <summary>Marks the connection closed (no request registers after this) and returns every waiting request.</summary>
    private List<PendingRequest> CloseAllPending(ChatConnectionClosedException closed)
    {
        var all = new List<PendingRequest>();
        lock (_pendingLock)
        {
            _closedError = closed;
            foreach (PendingRequest head in _pending.Values)
            {
                for (PendingRequest? item = head; item is not null; item = item.Next)
                {
                    all.Add(item);
                }
            }

            _pending.Clear();
        }

        return all;
    }
}
