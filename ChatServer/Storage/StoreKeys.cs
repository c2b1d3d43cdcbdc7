using System.Buffers.Binary;

namespace ChatServer.Storage;

/// <summary>
/// Key layout of the FASTER store: one prefix byte naming the record type, then fixed-width ids
/// (UUIDs in RFC 9562 byte order, integers big-endian so that keys of one group sort by seq).
/// </summary>
internal static class StoreKeys
{
    public const byte User = (byte)'U';
    public const byte Group = (byte)'G';
    public const byte Member = (byte)'M';
    public const byte GroupSeq = (byte)'S';
    public const byte Event = (byte)'E';
    public const byte Dedup = (byte)'D';
    public const byte Login = (byte)'L';

    public const int MaxKeyLength = 1 + 16 + 16 + 64;

    public static byte[] ForUser(Guid userId) => Id(User, userId);

    public static byte[] ForGroup(Guid groupId) => Id(Group, groupId);

    public static byte[] ForGroupSeq(Guid groupId) => Id(GroupSeq, groupId);

    public static byte[] ForLogin(Guid loginId) => Id(Login, loginId);

    public static byte[] ForMember(Guid groupId, Guid userId)
    {
        var key = new byte[33];
        key[0] = Member;
        groupId.TryWriteBytes(key.AsSpan(1, 16), bigEndian: true, out _);
        userId.TryWriteBytes(key.AsSpan(17, 16), bigEndian: true, out _);
        return key;
    }

    public static byte[] ForEvent(Guid groupId, ulong seq)
    {
        var key = new byte[25];
        WriteEventKey(key, groupId, seq);
        return key;
    }

    public static int WriteEventKey(Span<byte> destination, Guid groupId, ulong seq)
    {
        destination[0] = Event;
        groupId.TryWriteBytes(destination.Slice(1, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(17, 8), seq);
        return 25;
    }

    public static byte[] ForDedup(Guid groupId, Guid senderId, string clientMsgId)
    {
        var idBytes = System.Text.Encoding.UTF8.GetByteCount(clientMsgId);
        var key = new byte[33 + idBytes];
        key[0] = Dedup;
        groupId.TryWriteBytes(key.AsSpan(1, 16), bigEndian: true, out _);
        senderId.TryWriteBytes(key.AsSpan(17, 16), bigEndian: true, out _);
        System.Text.Encoding.UTF8.GetBytes(clientMsgId, key.AsSpan(33));
        return key;
    }

    public static Guid ReadGuid(ReadOnlySpan<byte> key, int offset) => new(key.Slice(offset, 16), bigEndian: true);

    private static byte[] Id(byte prefix, Guid id)
    {
        var key = new byte[17];
        key[0] = prefix;
        id.TryWriteBytes(key.AsSpan(1), bigEndian: true, out _);
        return key;
    }
}

/// <summary>Store keys compared by content, for dictionaries keyed by them.</summary>
internal sealed class KeyComparer : IEqualityComparer<byte[]>
{
    public static readonly KeyComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] key)
    {
        var hash = new HashCode();
        hash.AddBytes(key);
        return hash.ToHashCode();
    }
}
