using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace ChatServer.Gateway.WebSockets;

internal sealed partial class WebSocketConnection
{
    // One reader at a time: the application's ReceiveAsync, or CloseAsync draining until the peer's close frame.
    private readonly SemaphoreSlim _readLock = new(1, 1);

    // Frame in progress (guarded by _readLock).
    private bool _inPayload;
    private FrameHeader _frame;
    private long _frameRemaining;
    private int _maskOffset;

    // Message in progress (guarded by _readLock); _messageOpcode is 0 between messages.
    private byte[]? _message;
    private int _messageLength;
    private byte _messageOpcode;
    private byte _completedOpcode;
    private int _fragments;
    private Utf8Validator _utf8;
    private long _unconsumedBytes;

    // Set once nothing more will be read: peer close, violation, end of input or shutdown.
    private volatile bool _readDone;
    private ushort _readCloseStatus;
    private long _lastReceived;

    private enum ReadOutcome
    {
        NeedMoreData,
        Message,
        PeerClose,
        Violation,
    }

    /// <summary>Monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last bytes received, any frame.</summary>
    public long LastReceivedTimestamp => Volatile.Read(ref _lastReceived);

    /// <summary>
    /// Returns the next complete data message; control frames are handled inside. Returns Close (with the code) when
    /// the peer closed, on a protocol violation (our close frame is already queued) or when the transport ended (1006);
    /// every later call returns Close again. The payload is valid until the next call.
    /// </summary>
    public ValueTask<WebSocketMessage> ReceiveAsync(CancellationToken cancellationToken)
    {
        if (_readDone)
        {
            return new ValueTask<WebSocketMessage>(WebSocketMessage.Closed(_readCloseStatus));
        }

        return ReceiveLockedAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketMessage> ReceiveLockedAsync(CancellationToken cancellationToken)
    {
        await _readLock.WaitAsync(cancellationToken);
        try
        {
            if (_readDone)
            {
                return WebSocketMessage.Closed(_readCloseStatus);
            }

            if (_messageOpcode == 0)
            {
                // Idle connections hold no receive buffer.
                ReleaseMessageBuffer();
            }

            return await ReadNextAsync(discard: false, cancellationToken);
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <summary>Reads until a complete message or the end. Caller holds _readLock. With discard, data is skipped and only Close returns.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketMessage> ReadNextAsync(bool discard, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!discard && Volatile.Read(ref _queuedBytes) > _options.OutboundLimitBytes)
            {
                await WaitForOutboundRoomAsync(cancellationToken);
            }

            ReadResult result;
            try
            {
                result = await _input.ReadAsync(cancellationToken);
            }
            catch (Exception ex) when (IsTransportFailure(ex))
            {
                return OnInputEnded();
            }

            if (result.IsCanceled)
            {
                return OnInputEnded();
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length > _unconsumedBytes)
            {
                Volatile.Write(ref _lastReceived, _time.GetTimestamp());
            }

            SequencePosition consumed = buffer.Start;
            SequencePosition examined = buffer.End;
            ReadOutcome outcome;
            ushort code;
            try
            {
                ReadOnlySequence<byte> remaining = buffer;
                outcome = ProcessFrames(ref remaining, discard, out code);
                consumed = remaining.Start;
                _unconsumedBytes = remaining.Length;
                if (outcome != ReadOutcome.NeedMoreData)
                {
                    examined = consumed;
                }
            }
            finally
            {
                _input.AdvanceTo(consumed, examined);
            }

            switch (outcome)
            {
                case ReadOutcome.Message:
                    return new WebSocketMessage((WebSocketMessageType)_completedOpcode, _message is null ? default : _message.AsMemory(0, _messageLength), 0);
                case ReadOutcome.PeerClose:
                    return OnPeerClose(code);
                case ReadOutcome.Violation:
                    return OnViolation(code);
                default:
                    if (result.IsCompleted)
                    {
                        return OnInputEnded();
                    }

                    break;
            }
        }
    }

    /// <summary>Consumes whole frames and payload chunks from <paramref name="buffer"/> until a message completes or more data is needed.</summary>
    private ReadOutcome ProcessFrames(ref ReadOnlySequence<byte> buffer, bool discard, out ushort code)
    {
        code = 0;
        Span<byte> control = stackalloc byte[WebSocketFrames.MaxControlPayload];
        while (true)
        {
            if (!_inPayload)
            {
                ReadOnlySequence<byte> afterHeader = buffer;
                OperationStatus status = WebSocketFrameParser.TryReadFrameHeader(ref afterHeader, out FrameHeader header);
                if (status == OperationStatus.NeedMoreData)
                {
                    return ReadOutcome.NeedMoreData;
                }

                if (status != OperationStatus.Done)
                {
                    code = WebSocketCloseCodes.ProtocolError;
                    return ReadOutcome.Violation;
                }

                if (header.IsControl)
                {
                    int length = (int)header.PayloadLength;
                    if (afterHeader.Length < length)
                    {
                        return ReadOutcome.NeedMoreData;
                    }

                    Span<byte> payload = control[..length];
                    afterHeader.Slice(0, length).CopyTo(payload);
                    WebSocketFrameParser.Unmask(payload, header.MaskKey, 0);
                    buffer = afterHeader.Slice(length);
                    if (header.Opcode == WebSocketFrames.OpPing)
                    {
                        if (!discard)
                        {
                            TrySend(WebSocketFrames.Frame(WebSocketFrames.OpPong, payload), droppable: false);
                        }

                        continue;
                    }

                    if (header.Opcode == WebSocketFrames.OpPong)
                    {
                        continue;
                    }

                    return ParseClose(payload, out code);
                }

                if (header.Opcode == WebSocketFrames.OpContinuation)
                {
                    if (_messageOpcode == 0)
                    {
                        code = WebSocketCloseCodes.ProtocolError;
                        return ReadOutcome.Violation;
                    }
                }
                else
                {
                    if (_messageOpcode != 0)
                    {
                        code = WebSocketCloseCodes.ProtocolError;
                        return ReadOutcome.Violation;
                    }

                    if (header.Opcode == WebSocketFrames.OpText && _options.RejectText && !discard)
                    {
                        code = WebSocketCloseCodes.UnsupportedData;
                        return ReadOutcome.Violation;
                    }

                    _messageOpcode = header.Opcode;
                    _messageLength = 0;
                    _fragments = 0;
                    _utf8.Reset();
                }

                if (!discard)
                {
                    if (++_fragments > _options.MaxFragments || header.PayloadLength > _options.MaxMessageBytes - _messageLength)
                    {
                        code = WebSocketCloseCodes.MessageTooBig;
                        return ReadOutcome.Violation;
                    }

                    EnsureMessageCapacity(_messageLength + (int)header.PayloadLength);
                }

                _frame = header;
                _frameRemaining = header.PayloadLength;
                _maskOffset = 0;
                _inPayload = true;
                buffer = afterHeader;
            }

            if (_frameRemaining > 0)
            {
                if (buffer.IsEmpty)
                {
                    return ReadOutcome.NeedMoreData;
                }

                int take = (int)Math.Min(_frameRemaining, buffer.Length);
                if (!discard)
                {
                    Span<byte> destination = _message.AsSpan(_messageLength, take);
                    buffer.Slice(0, take).CopyTo(destination);
                    _maskOffset = WebSocketFrameParser.Unmask(destination, _frame.MaskKey, _maskOffset);
                    if (_messageOpcode == WebSocketFrames.OpText && !_utf8.Append(destination))
                    {
                        code = WebSocketCloseCodes.InvalidPayload;
                        return ReadOutcome.Violation;
                    }

                    _messageLength += take;
                }

                buffer = buffer.Slice(take);
                _frameRemaining -= take;
                if (_frameRemaining > 0)
                {
                    return ReadOutcome.NeedMoreData;
                }
            }

            _inPayload = false;
            if (_frame.Fin)
            {
                byte opcode = _messageOpcode;
                _messageOpcode = 0;
                if (discard)
                {
                    continue;
                }

                if (opcode == WebSocketFrames.OpText && !_utf8.IsComplete)
                {
                    code = WebSocketCloseCodes.InvalidPayload;
                    return ReadOutcome.Violation;
                }

                _completedOpcode = opcode;
                return ReadOutcome.Message;
            }
        }
    }

    /// <summary>RFC 6455 §5.5.1: empty, or a valid code and a UTF-8 reason.</summary>
    private static ReadOutcome ParseClose(ReadOnlySpan<byte> payload, out ushort code)
    {
        if (payload.IsEmpty)
        {
            code = WebSocketCloseCodes.NoStatus;
            return ReadOutcome.PeerClose;
        }

        if (payload.Length == 1)
        {
            code = WebSocketCloseCodes.ProtocolError;
            return ReadOutcome.Violation;
        }

        code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!WebSocketCloseCodes.IsValidReceived(code))
        {
            code = WebSocketCloseCodes.ProtocolError;
            return ReadOutcome.Violation;
        }

        if (!Utf8.IsValid(payload[2..]))
        {
            code = WebSocketCloseCodes.InvalidPayload;
            return ReadOutcome.Violation;
        }

        return ReadOutcome.PeerClose;
    }

    private void EnsureMessageCapacity(int needed)
    {
        if (_message is not null && _message.Length >= needed)
        {
            return;
        }

        if (needed == 0)
        {
            return;
        }

        int size = Math.Max(needed, Math.Min(_options.MaxMessageBytes, Math.Max(4096, (_message?.Length ?? 0) * 2)));
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        if (_message is not null)
        {
            _message.AsSpan(0, _messageLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_message);
        }

        _message = larger;
    }

    private void ReleaseMessageBuffer()
    {
        if (_message is not null)
        {
            ArrayPool<byte>.Shared.Return(_message);
            _message = null;
            _messageLength = 0;
        }
    }

    private WebSocketMessage FinishReading(ushort status)
    {
        _readCloseStatus = status;
        _readDone = true;
        return WebSocketMessage.Closed(status);
    }

    private WebSocketMessage OnPeerClose(ushort code)
    {
        WebSocketMessage closed = FinishReading(code);
        // Echo the code (an empty close answers an empty one); no-op when our close frame went first.
        _ = StartClose(code == WebSocketCloseCodes.NoStatus ? WebSocketFrames.EmptyCloseFrame : WebSocketFrames.CloseFrame(code, null), waitForPeer: false);
        return closed;
    }

    private WebSocketMessage OnViolation(ushort code)
    {
        _inPayload = false;
        _messageOpcode = 0;
        WebSocketMessage closed = FinishReading(code);
        // RFC 6455 §7.1.7: fail the connection: send our close, then close the transport without waiting for a reply.
        string? reason = code == WebSocketCloseCodes.UnsupportedData ? "text frames are not accepted" : null;
        _ = StartClose(WebSocketFrames.CloseFrame(code, reason), waitForPeer: false);
        return closed;
    }

    private WebSocketMessage OnInputEnded()
    {
        WebSocketMessage closed = FinishReading(WebSocketCloseCodes.Abnormal);
        if (Volatile.Read(ref _closeStarted) == 0)
        {
            _ = ShutdownAsync(abortive: true);
        }

        return closed;
    }
}
