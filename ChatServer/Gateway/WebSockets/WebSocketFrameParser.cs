using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ChatServer.Gateway.WebSockets;

/// <summary>Parses client frame headers and unmasks payloads.</summary>
internal static class WebSocketFrameParser
{
    /// <summary>
    /// Reads one client frame header. Done: <paramref name="buffer"/> is advanced past the header (the payload is not
    /// touched). NeedMoreData: nothing consumed. InvalidData: an RFC 6455 violation, to be closed with 1002 (reserved
    /// bits, unknown opcode, unmasked frame, fragmented or oversized control frame, 64-bit length with the high bit set).
    /// The first two bytes are checked before the rest of the header is awaited. Payload size limits are the caller's:
    /// it checks <see cref="FrameHeader.PayloadLength"/> before buffering any payload.
    /// </summary>
    public static OperationStatus TryReadFrameHeader(ref ReadOnlySequence<byte> buffer, out FrameHeader header)
    {
        header = default;
        if (buffer.Length < 2)
        {
            return OperationStatus.NeedMoreData;
        }

        Span<byte> bytes = stackalloc byte[14];
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= 14)
        {
            first[..14].CopyTo(bytes);
        }
        else
        {
            buffer.Slice(0, Math.Min(buffer.Length, 14)).CopyTo(bytes);
        }

        byte b0 = bytes[0];
        byte b1 = bytes[1];
        bool fin = (b0 & 0x80) != 0;
        byte opcode = (byte)(b0 & 0x0F);
        int length7 = b1 & 0x7F;
        if ((b0 & 0x70) != 0 || (b1 & 0x80) == 0)
        {
            return OperationStatus.InvalidData;
        }

        switch (opcode)
        {
            case WebSocketFrames.OpContinuation or WebSocketFrames.OpText or WebSocketFrames.OpBinary:
                break;
            case WebSocketFrames.OpClose or WebSocketFrames.OpPing or WebSocketFrames.OpPong:
                if (!fin || length7 > WebSocketFrames.MaxControlPayload)
                {
                    return OperationStatus.InvalidData;
                }

                break;
            default:
                return OperationStatus.InvalidData;
        }

        int extended = length7 switch { 126 => 2, 127 => 8, _ => 0 };
        int headerLength = 2 + extended + 4;
        if (buffer.Length < headerLength)
        {
            return OperationStatus.NeedMoreData;
        }

        long length;
        if (extended == 0)
        {
            length = length7;
        }
        else if (extended == 2)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(2, 2));
        }
        else
        {
            ulong length64 = BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice(2, 8));
            if (length64 > long.MaxValue)
            {
                return OperationStatus.InvalidData;
            }

            length = (long)length64;
        }

        uint mask = MemoryMarshal.Read<uint>(bytes.Slice(2 + extended, 4));
        header = new FrameHeader(fin, opcode, length, mask, headerLength);
        buffer = buffer.Slice(headerLength);
        return OperationStatus.Done;
    }

    /// <summary>
    /// XORs <paramref name="data"/> in place with the masking key, starting at key byte <paramref name="offset"/> (0-3);
    /// returns the key offset for the byte after <paramref name="data"/>. Vectorized 32/16/8 bytes at a time.
    /// </summary>
    public static int Unmask(Span<byte> data, uint maskKey, int offset)
    {
        if (data.IsEmpty)
        {
            return offset;
        }

        // maskKey holds key bytes 0..3 in memory order; rotate so its first byte in memory is key[offset].
        uint mask = BitConverter.IsLittleEndian
            ? BitOperations.RotateRight(maskKey, 8 * offset)
            : BitOperations.RotateLeft(maskKey, 8 * offset);
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<byte>.Count)
        {
            Vector256<byte> m = Vector256.Create(mask).AsByte();
            nuint last = length - (nuint)Vector256<byte>.Count;
            for (; i <= last; i += (nuint)Vector256<byte>.Count)
            {
                (Vector256.LoadUnsafe(ref start, i) ^ m).StoreUnsafe(ref start, i);
            }
        }

        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> m = Vector128.Create(mask).AsByte();
            nuint last = length - (nuint)Vector128<byte>.Count;
            for (; i <= last; i += (nuint)Vector128<byte>.Count)
            {
                (Vector128.LoadUnsafe(ref start, i) ^ m).StoreUnsafe(ref start, i);
            }
        }

        ulong mask64 = mask | ((ulong)mask << 32);
        for (; i + 8 <= length; i += 8)
        {
            ref byte p = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref p, Unsafe.ReadUnaligned<ulong>(ref p) ^ mask64);
        }

        Span<byte> key = stackalloc byte[4];
        MemoryMarshal.Write(key, in mask);
        int k = 0;
        for (; i < length; i++)
        {
            Unsafe.Add(ref start, i) ^= key[k];
            k = (k + 1) & 3;
        }

        return (offset + data.Length) & 3;
    }
}
