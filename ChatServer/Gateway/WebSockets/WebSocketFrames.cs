using System.Buffers.Binary;
using System.Text;

namespace ChatServer.Gateway.WebSockets;

/// <summary>Encodes server frames (unmasked, RFC 6455 §5.2).</summary>
internal static class WebSocketFrames
{
    public const byte OpContinuation = 0x0;
    public const byte OpText = 0x1;
    public const byte OpBinary = 0x2;
    public const byte OpClose = 0x8;
    public const byte OpPing = 0x9;
    public const byte OpPong = 0xA;

    /// <summary>Control frames carry at most 125 bytes (RFC 6455 §5.5).</summary>
    public const int MaxControlPayload = 125;

    internal static readonly byte[] PingFrame = [0x80 | OpPing, 0x00];
    internal static readonly byte[] EmptyCloseFrame = [0x80 | OpClose, 0x00];

    /// <summary>Writes an unmasked frame header; returns its length (2, 4 or 10).</summary>
    public static int WriteHeader(Span<byte> destination, byte opcode, bool fin, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        byte first = (byte)((fin ? 0x80 : 0) | (opcode & 0x0F));
        if (payloadLength < 126)
        {
            destination[1] = (byte)payloadLength;
            destination[0] = first;
            return 2;
        }

        if (payloadLength <= ushort.MaxValue)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2, 2), (ushort)payloadLength);
            destination[0] = first;
            destination[1] = 126;
            return 4;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(2, 8), (ulong)payloadLength);
        destination[0] = first;
        destination[1] = 127;
        return 10;
    }

    public static int HeaderLength(int payloadLength) => payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;

    /// <summary>One array holding a complete binary frame: encode an event once and share it among recipients.</summary>
    public static byte[] BinaryFrame(ReadOnlySpan<byte> payload) => Frame(OpBinary, payload);

    /// <summary>One array holding a complete, final frame with the given opcode.</summary>
    public static byte[] Frame(byte opcode, ReadOnlySpan<byte> payload)
    {
        int header = HeaderLength(payload.Length);
        byte[] frame = GC.AllocateUninitializedArray<byte>(header + payload.Length);
        WriteHeader(frame, opcode, fin: true, payload.Length);
        payload.CopyTo(frame.AsSpan(header));
        return frame;
    }

    /// <summary>A close frame with a code and a UTF-8 reason cut (at a character boundary) to fit in 125 bytes.</summary>
    public static byte[] CloseFrame(ushort code, string? reason)
    {
        const int MaxReason = MaxControlPayload - 2;
        Span<byte> payload = stackalloc byte[MaxControlPayload];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        int reasonLength = 0;
        if (!string.IsNullOrEmpty(reason))
        {
            if (Encoding.UTF8.GetMaxByteCount(reason.Length) <= MaxReason || Encoding.UTF8.GetByteCount(reason) <= MaxReason)
            {
                reasonLength = Encoding.UTF8.GetBytes(reason, payload[2..]);
            }
            else
            {
                byte[] encoded = Encoding.UTF8.GetBytes(reason);
                reasonLength = MaxReason;
                while (reasonLength > 0 && (encoded[reasonLength] & 0xC0) == 0x80)
                {
                    reasonLength--;
                }

                encoded.AsSpan(0, reasonLength).CopyTo(payload[2..]);
            }
        }

        return Frame(OpClose, payload[..(2 + reasonLength)]);
    }
}
