using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace ChatServer.Protocol;

/// <summary>
/// Builds one server frame: a MessagePack payload written after a reserved prefix, then the WebSocket header
/// put right before it, so the finished frame is produced with one copy into an exact array that many
/// connections can share. One instance per thread (<see cref="Current"/>); not for use across awaits.
/// </summary>
internal sealed class FrameBuilder : IBufferWriter<byte>
{
    private const int Prefix = 10;

    [ThreadStatic]
    private static FrameBuilder? t_current;

    private byte[] _buffer = new byte[4096];
    private int _position = Prefix;

    public static FrameBuilder Current => t_current ??= new FrameBuilder();

    public int Length => _position - Prefix;

    public MessagePackWriter Start()
    {
        _position = Prefix;
        return new MessagePackWriter(this);
    }

    /// <summary>Returns the binary WebSocket frame (FIN, opcode 2, unmasked) of what was written.</summary>
    public byte[] ToFrame(ref MessagePackWriter writer)
    {
        writer.Flush();
        var length = _position - Prefix;
        var header = length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;
        var start = Prefix - header;
        _buffer[start] = 0x82;
        if (header == 2)
        {
            _buffer[start + 1] = (byte)length;
        }
        else if (header == 4)
        {
            _buffer[start + 1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(start + 2), (ushort)length);
        }
        else
        {
            _buffer[start + 1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(_buffer.AsSpan(start + 2), (ulong)length);
        }

        var frame = _buffer.AsSpan(start, header + length).ToArray();
        _position = Prefix;
        if (_buffer.Length > 1 << 20) _buffer = new byte[4096];
        return frame;
    }

    /// <summary>The MessagePack payload written so far (for tests and benchmarks).</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(Prefix, _position - Prefix);

    public void Advance(int count) => _position += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_position);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_position);
    }

    private void Ensure(int sizeHint)
    {
        var need = Math.Max(sizeHint, 256);
        if (_buffer.Length - _position >= need) return;
        var next = new byte[Math.Max(_buffer.Length * 2, _position + need)];
        _buffer.AsSpan(0, _position).CopyTo(next);
        _buffer = next;
    }
}
