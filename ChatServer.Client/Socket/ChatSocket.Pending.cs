using System.Globalization;
using System.Net.WebSockets;

namespace ChatServer.Client;

public sealed partial class ChatSocket
{
    private readonly Lock _pendingLock = new();
    private readonly Dictionary<uint, PendingRequest> _pending = [];
    private ChatConnectionClosedException? _closedError;

    /// <summary>
    /// Registers the request (its reply may arrive before the send returns), sends the frame and returns the
    /// reply task. When the send completes synchronously no async state machine is involved.
    /// </summary>
    private Task<T> RequestAsync<T>(
        PooledBufferWriter frame, uint rid, ReplyReader<T> read, CancellationToken cancellationToken)
    {
        var pending = new PendingRequest<T>(rid, read);
        Task sent = SendRequestAsync(frame, frame.WrittenMemory, pending, cancellationToken);
        return sent.IsCompletedSuccessfully ? pending.Task : AwaitSendThenReply(sent, pending.Task);

        static async Task<T> AwaitSendThenReply(Task sent, Task<T> reply)
        {
            await sent.ConfigureAwait(false);
            return await reply.ConfigureAwait(false);
        }
    }

    private async Task SendRequestAsync(
        PooledBufferWriter? frame, ReadOnlyMemory<byte> message, PendingRequest pending, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            AddPending(pending);
            pending.RegisterCancellation(this, cancellationToken);
            try
            {
                await SendFrameAsync(message, WebSocketMessageType.Binary, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The caller sees the send's exception; the reply task is abandoned unobserved.
                Forget(pending);
                pending.ReleaseCancellation();
                throw;
            }
        }
        finally
        {
            frame?.Dispose();
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
        if (Volatile.Read(ref _closedError) is not null)
        {
            throw ClosedException(null);
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

    private void AddPending(PendingRequest pending)
    {
        if (_requestTimeoutTicks != long.MaxValue)
        {
            pending.Deadline = _timeProvider.GetTimestamp() + _requestTimeoutTicks;
        }

        lock (_pendingLock)
        {
            if (_closedError is { } closed)
            {
                throw new ChatConnectionClosedException(closed.CloseStatus, closed.CloseDescription, closed.InnerException);
            }

            if (!_pending.TryGetValue(pending.Rid, out PendingRequest? tail))
            {
                _pending.Add(pending.Rid, pending);
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

    /// <summary>Stops waiting for <paramref name="pending"/>'s reply (cancelled, timed out or not sent); a later reply is unexpected.</summary>
    internal void Forget(PendingRequest pending)
    {
        lock (_pendingLock)
        {
            ForgetLocked(pending);
        }
    }

    private void ForgetLocked(PendingRequest pending)
    {
        uint rid = pending.Rid;
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

    /// <summary>Fails every request past its deadline. Runs on one timer per connection, not one per request.</summary>
    private void SweepTimeouts()
    {
        long now = _timeProvider.GetTimestamp();
        List<PendingRequest>? expired = null;
        lock (_pendingLock)
        {
            foreach (PendingRequest head in _pending.Values)
            {
                for (PendingRequest? item = head; item is not null; item = item.Next)
                {
                    if (item.Deadline <= now)
                    {
                        (expired ??= []).Add(item);
                    }
                }
            }

            if (expired is null)
            {
                return;
            }

            foreach (PendingRequest item in expired)
            {
                ForgetLocked(item);
            }
        }

        foreach (PendingRequest item in expired)
        {
            item.Fail(new TimeoutException(string.Create(
                CultureInfo.InvariantCulture, $"No reply to request {item.Rid} within {_options.RequestTimeout}.")));
        }
    }

    /// <summary>Marks the connection closed (no request registers after this) and returns every waiting request.</summary>
    private List<PendingRequest> CloseAllPending(ChatConnectionClosedException closed)
    {
        var all = new List<PendingRequest>();
        lock (_pendingLock)
        {
            Volatile.Write(ref _closedError, closed);
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
