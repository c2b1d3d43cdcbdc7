using System.Buffers;
using MessagePack;

namespace ChatServer.Client;

public static partial class ChatCodec
{
    /// <summary>
    /// Builds a request frame <c>[op, rid, ...args]</c> from loosely typed values, for tests of
    /// malformed requests and for tools. See <see cref="WriteValue"/> for the accepted value types.
    /// </summary>
    /// <param name="op">The op number; need not exist.</param>
    /// <param name="rid">The request id.</param>
    /// <param name="args">The arguments, written in order.</param>
    /// <returns>The complete message bytes.</returns>
    public static byte[] BuildRequest(int op, uint rid, ReadOnlySpan<object?> args)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2 + args.Length);
        writer.Write(op);
        writer.Write(rid);
        foreach (object? arg in args)
        {
            WriteValue(ref writer, arg);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes a loosely typed value: <c>null</c> → nil; <see cref="bool"/>; any integer type (shortest
    /// form); <see cref="float"/>/<see cref="double"/>; <see cref="string"/> → str;
    /// <see cref="Guid"/> → bin 16 (RFC 9562 order); <see cref="byte"/>[] or
    /// <see cref="ReadOnlyMemory{T}"/> of bytes → bin; <see cref="RawMessagePack"/> → copied verbatim;
    /// <see cref="IReadOnlyDictionary{TKey, TValue}"/> of <see cref="Guid"/> → <see cref="long"/> → map
    /// (as in Sync and the Hello resume); <see cref="object"/>[] → array (recursively).
    /// </summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The value's type is not one of the above.</exception>
    public static void WriteValue(ref MessagePackWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNil(); break;
            case bool b: writer.Write(b); break;
            case byte n: writer.Write(n); break;
            case sbyte n: writer.Write(n); break;
            case short n: writer.Write(n); break;
            case ushort n: writer.Write(n); break;
            case int n: writer.Write(n); break;
            case uint n: writer.Write(n); break;
            case long n: writer.Write(n); break;
            case ulong n: writer.Write(n); break;
            case float n: writer.Write(n); break;
            case double n: writer.Write(n); break;
            case Enum e: writer.Write(Convert.ToInt64(e, System.Globalization.CultureInfo.InvariantCulture)); break;
            case string s: writer.Write(s); break;
            case Guid id: WriteGuid(ref writer, id); break;
            case byte[] bytes: writer.Write(bytes); break;
            case ReadOnlyMemory<byte> bytes: writer.Write(bytes.Span); break;
            case RawMessagePack raw: writer.WriteRaw(raw.Bytes.Span); break;
            case IReadOnlyDictionary<Guid, long> map: WriteSeqMap(ref writer, map); break;
            case object?[] array:
                writer.WriteArrayHeader(array.Length);
                foreach (object? item in array)
                {
                    WriteValue(ref writer, item);
                }

                break;
            default:
                throw new ArgumentException($"Cannot write a value of type {value.GetType()}.", nameof(value));
        }
    }

    /// <summary>Writes a map groupId (bin 16) → lastSeq, as in Sync and the Hello resume.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="map">The entries.</param>
    public static void WriteSeqMap(ref MessagePackWriter writer, IReadOnlyDictionary<Guid, long> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        writer.WriteMapHeader(map.Count);
        foreach (KeyValuePair<Guid, long> entry in map)
        {
            WriteGuid(ref writer, entry.Key);
            writer.Write(entry.Value);
        }
    }

    internal static MessagePackWriter StartRequest(PooledBufferWriter buffer, ChatOp op, uint rid, int argCount)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2 + argCount);
        writer.Write((uint)op);
        writer.Write(rid);
        return writer;
    }

    internal static void WriteNullable(ref MessagePackWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNil();
        }
        else
        {
            writer.Write(value);
        }
    }

    internal static void WriteNullable(ref MessagePackWriter writer, long? value)
    {
        if (value is { } v)
        {
            writer.Write(v);
        }
        else
        {
            writer.WriteNil();
        }
    }

    internal static void WriteNullable(ref MessagePackWriter writer, bool? value)
    {
        if (value is { } v)
        {
            writer.Write(v);
        }
        else
        {
            writer.WriteNil();
        }
    }

    internal static void WriteNullable(ref MessagePackWriter writer, Guid? value)
    {
        if (value is { } v)
        {
            WriteGuid(ref writer, v);
        }
        else
        {
            writer.WriteNil();
        }
    }
}
