using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using MessagePack;

namespace ChatServer.Client;

public sealed partial class ChatSocket
{
    private const int ReplyFrame = 0;
    private const int ErrorFrame = 1;
    private const int PushFrame = 2;

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_options.ReceiveBufferBytes);
        int count = 0;
        Exception? failure = null;
        try
        {
            while (true)
            {
                if (count == buffer.Length)
                {
                    if (buffer.Length >= _options.MaxReceiveMessageBytes)
                    {
                        failure = new ChatProtocolException(string.Create(
                            CultureInfo.InvariantCulture,
                            $"A message from the server exceeds {_options.MaxReceiveMessageBytes} bytes."));
                        await SendCloseAsync(WebSocketCloseStatus.MessageTooBig).ConfigureAwait(false);
                        break;
                    }

                    buffer = Grow(buffer, count, _options.MaxReceiveMessageBytes);
                }

                ValueWebSocketReceiveResult result = await _webSocket
                    .ReceiveAsync(buffer.AsMemory(count), CancellationToken.None)
                    .ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                count += result.Count;
                if (!result.EndOfMessage)
                {
                    continue;
                }

                ReadOnlyMemory<byte> message = buffer.AsMemory(0, count);
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    Emit(new UnexpectedFramePush("A text message (the protocol is binary only).", message.ToArray()));
                }
                else
                {
                    Dispatch(message);
                }

                count = 0;
                if (buffer.Length > _options.ReceiveBufferBytes * 4)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(_options.ReceiveBufferBytes);
                }
            }
        }
        catch (Exception e)
        {
            // Transport errors end the connection; anything else would too, so it is reported the same way
            // (through Closed and the failed requests) instead of leaving the connection half alive.
            failure = e;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await OnClosedAsync(failure).ConfigureAwait(false);
    }

    private static byte[] Grow(byte[] buffer, int count, int maximum)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maximum));
        buffer.AsSpan(0, count).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    /// <summary>Decodes one complete message and routes it to its request or to <see cref="Pushes"/>.</summary>
    private void Dispatch(ReadOnlyMemory<byte> message)
    {
        var reader = new MessagePackReader(message);
        PendingRequest? pending = null;
        try
        {
            int count = reader.ReadArrayHeader();
            if (count < 2)
            {
                throw new ChatProtocolException("A server message has fewer than 2 elements.");
            }

            int kind = reader.ReadInt32();
            switch (kind)
            {
                case ReplyFrame:
                case ErrorFrame:
                    uint rid = reader.ReadUInt32();
                    int resultOffset = checked((int)reader.Consumed);
                    pending = TakePending(rid);
                    if (pending is null)
                    {
                        Emit(new UnexpectedFramePush(
                            string.Create(CultureInfo.InvariantCulture, $"A reply to rid {rid}, which no request is waiting for."),
                            message.ToArray()));
                        return;
                    }

                    if (kind == ReplyFrame)
                    {
                        pending.OnSuccess(message, resultOffset, count - 2);
                    }
                    else
                    {
                        ChatApiException error = ReadErrorReply(ref reader, count - 2);
                        EnsureEnd(ref reader);
                        pending.OnError(message, resultOffset, count - 2, error);
                    }

                    return;
                case PushFrame when _options.DiscardPushes:
                    return; // not even decoded
                case PushFrame:
                    int type = reader.ReadInt32();
                    ServerPush push = ReadPush(ref reader, type, count - 2, message);
                    EnsureEnd(ref reader);
                    Emit(push);
                    return;
                default:
                    throw new ChatProtocolException(string.Create(
                        CultureInfo.InvariantCulture, $"Unknown server message kind {kind}."));
            }
        }
        catch (Exception e) when (IsDecodeError(e))
        {
            ChatProtocolException error = e as ChatProtocolException
                ?? new ChatProtocolException("Malformed server message: " + e.Message, e);
            if (pending is not null)
            {
                pending.Fail(error);
            }
            else
            {
                Emit(new UnexpectedFramePush(error.Message, message.ToArray()));
            }
        }
    }

    private static ChatApiException ReadErrorReply(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The error reply", fieldCount, 4);
        string code = ChatCodec.ReadString(ref reader, "error code");
        string title = ChatCodec.ReadNullableString(ref reader) ?? string.Empty;
        int status = reader.ReadInt32();
        long? retryAfterMs = ChatCodec.ReadNullableInt64(ref reader);
        ChatCodec.SkipFields(ref reader, fieldCount - 4);
        return new ChatApiException(code, title, status, detail: null, retryAfterMs);
    }

    private static ServerPush ReadPush(ref MessagePackReader reader, int type, int fieldCount, ReadOnlyMemory<byte> message)
    {
        ServerPush push;
        int known;
        switch ((PushType)type)
        {
            case PushType.Event:
                return new EventPush(ChatCodec.ReadGroupEventFields(ref reader, fieldCount));
            case PushType.Typing:
                known = 2;
                ChatCodec.RequireFields("The Typing push", fieldCount, known);
                push = new TypingPush(ChatCodec.ReadGuid(ref reader), ChatCodec.ReadGuid(ref reader));
                break;
            case PushType.ReadUpTo:
                known = 3;
                ChatCodec.RequireFields("The ReadUpTo push", fieldCount, known);
                push = new ReadUpToPush(ChatCodec.ReadGuid(ref reader), ChatCodec.ReadGuid(ref reader), reader.ReadInt64());
                break;
            case PushType.Gap:
                known = 3;
                ChatCodec.RequireFields("The Gap push", fieldCount, known);
                push = new GapPush(ChatCodec.ReadGuid(ref reader), reader.ReadInt64(), reader.ReadInt64());
                break;
            case PushType.Synced:
                known = 0;
                push = SyncedPush.Instance;
                break;
            case PushType.Goodbye:
                known = 2;
                ChatCodec.RequireFields("The Goodbye push", fieldCount, known);
                push = new GoodbyePush(ChatCodec.ReadString(ref reader, "Goodbye.reason"), ChatCodec.ReadNullableInt64(ref reader));
                break;
            default:
                known = 0;
                push = new UnknownPush(type, message.ToArray());
                break;
        }

        ChatCodec.SkipFields(ref reader, fieldCount - known);
        return push;
    }

    private static void EnsureEnd(ref MessagePackReader reader)
    {
        if (!reader.End)
        {
            throw new ChatProtocolException("Trailing bytes after the message's array.");
        }
    }

    private static bool IsDecodeError(Exception e) =>
        e is ChatProtocolException or MessagePackSerializationException or EndOfStreamException
            or OverflowException or InvalidOperationException or ArgumentException or FormatException;

    private void Emit(ServerPush push)
    {
        if (!_options.DiscardPushes)
        {
            _pushes.Writer.TryWrite(push);
        }
    }

    private async Task OnClosedAsync(Exception? failure)
    {
        CloseStatus = (int?)_webSocket.CloseStatus;
        CloseDescription = _webSocket.CloseStatusDescription;
        if (_webSocket.State == WebSocketState.CloseReceived)
        {
            // Answer the server's close (RFC 6455 §5.5.1: echo its code).
            await SendCloseAsync(_webSocket.CloseStatus ?? WebSocketCloseStatus.Empty).ConfigureAwait(false);
        }

        if (_timeoutSweep is not null)
        {
            await _timeoutSweep.DisposeAsync().ConfigureAwait(false);
        }

        var closed = new ChatConnectionClosedException(CloseStatus, CloseDescription, failure);
        foreach (PendingRequest pending in CloseAllPending(closed))
        {
            pending.Fail(closed);
        }

        _pushes.Writer.TryComplete();
        _closed.TrySetResult(CloseStatus);
    }

    private async Task SendCloseAsync(WebSocketCloseStatus status)
    {
        using var timeout = new CancellationTokenSource(CloseHandshakeTimeout);
        try
        {
            await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportError(e))
        {
            // A send is stuck; the connection cannot be closed politely.
            _webSocket.Abort();
            return;
        }

        try
        {
            await _webSocket.CloseOutputAsync(status, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransportError(e))
        {
            // The peer is already gone.
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
