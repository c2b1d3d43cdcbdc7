using System.Buffers.Binary;

namespace ChatServer.Chat;

/// <summary>Orders UUIDs by their RFC 9562 bytes (= lower-case canonical string order), as lists and cursors require.</summary>
internal sealed class UuidOrder : IComparer<Guid>
{
    public static readonly UuidOrder Instance = new();

    public int Compare(Guid x, Guid y)
    {
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        x.TryWriteBytes(a, bigEndian: true, out _);
        y.TryWriteBytes(b, bigEndian: true, out _);
        var c = BinaryPrimitives.ReadUInt64BigEndian(a).CompareTo(BinaryPrimitives.ReadUInt64BigEndian(b));
        return c != 0 ? c : BinaryPrimitives.ReadUInt64BigEndian(a[8..]).CompareTo(BinaryPrimitives.ReadUInt64BigEndian(b[8..]));
    }
}
