using System.Buffers.Binary;

namespace ChatServer.Storage;

/// <summary>One key of the store set to a value, or deleted (<see cref="Value"/> null).</summary>
internal readonly record struct Mutation(byte[] Key, byte[]? Value);

/// <summary>
/// One atomic change: every mutation of one service operation, appended to the write-ahead log as one entry,
/// so that replay after a crash applies all of it or none of it.
/// </summary>
internal sealed class WalEntry
{
    private readonly TaskCompletionSource _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WalEntry(List<Mutation> mutations, Action? onCommitted = null)
    {
        Mutations = mutations;
        OnCommitted = onCommitted;
    }

    public List<Mutation> Mutations { get; }

    /// <summary>Runs on the committer, in log order, after the entry is durable and applied to the store.</summary>
    public Action? OnCommitted { get; }

    public Task Durable => _durable.Task;

    internal void Complete() => _durable.TrySetResult();

    internal void Fail(Exception error) => _durable.TrySetException(error);

    public int EncodedLength()
    {
        var length = 4;
        foreach (var m in Mutations) length += 2 + m.Key.Length + 4 + (m.Value?.Length ?? 0);
        return length;
    }

    /// <summary>Layout: count (u32), then per mutation key length (u16), key, value length (i32, -1 = delete), value.</summary>
    public int Encode(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, Mutations.Count);
        var offset = 4;
        foreach (var m in Mutations)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[offset..], (ushort)m.Key.Length);
            offset += 2;
            m.Key.CopyTo(destination[offset..]);
            offset += m.Key.Length;
            BinaryPrimitives.WriteInt32LittleEndian(destination[offset..], m.Value?.Length ?? -1);
            offset += 4;
            if (m.Value is { } v)
            {
                v.CopyTo(destination[offset..]);
                offset += v.Length;
            }
        }

        return offset;
    }

    public static List<Mutation> Decode(ReadOnlySpan<byte> entry)
    {
        if (entry.Length < 4) throw new InvalidDataException("write-ahead log entry too short");
        var count = BinaryPrimitives.ReadInt32LittleEndian(entry);
        if (count < 0 || count > entry.Length) throw new InvalidDataException("write-ahead log entry has a bad count");
        var list = new List<Mutation>(count);
        var offset = 4;
        for (var i = 0; i < count; i++)
        {
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[offset..]);
            offset += 2;
            var key = entry.Slice(offset, keyLength).ToArray();
            offset += keyLength;
            var valueLength = BinaryPrimitives.ReadInt32LittleEndian(entry[offset..]);
            offset += 4;
            byte[]? value = null;
            if (valueLength >= 0)
            {
                value = entry.Slice(offset, valueLength).ToArray();
                offset += valueLength;
            }

            list.Add(new Mutation(key, value));
        }

        return list;
    }
}
