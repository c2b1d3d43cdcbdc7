using System.Buffers;
using System.Text;
using MessagePack;

namespace ChatServer.Protocol;

/// <summary>MessagePack primitives of the wire format: UUIDs as bin 16 (RFC 9562 order), strict UTF-8 strings.</summary>
internal static class Wire
{
    public static void WriteUuid(ref MessagePackWriter w, Guid id)
    {
        w.WriteBinHeader(16);
        var span = w.GetSpan(16);
        id.TryWriteBytes(span, bigEndian: true, out _);
        w.Advance(16);
    }

    public static void WriteUuidOrNil(ref MessagePackWriter w, Guid? id)
    {
        if (id is { } v) WriteUuid(ref w, v);
        else w.WriteNil();
    }

    public static void WriteUInt(ref MessagePackWriter w, ulong? value)
    {
        if (value is { } v) w.Write(v);
        else w.WriteNil();
    }

    public static void WriteLong(ref MessagePackWriter w, long? value)
    {
        if (value is { } v)
        {
            if (v >= 0) w.Write((ulong)v);
            else w.Write(v);
        }
        else
        {
            w.WriteNil();
        }
    }

    /// <summary>Reads a 16-byte bin as a UUID; false on any other type or length.</summary>
    public static bool TryReadUuid(ref MessagePackReader r, out Guid id)
    {
        id = default;
        if (r.End || r.NextMessagePackType != MessagePackType.Binary) return false;
        var bytes = r.ReadBytes();
        if (bytes is not { Length: 16 } seq) return false;
        Span<byte> tmp = stackalloc byte[16];
        seq.CopyTo(tmp);
        id = new Guid(tmp, bigEndian: true);
        return true;
    }

    /// <summary>Reads a str that must be valid UTF-8; nil reads as null when <paramref name="allowNil"/>.</summary>
    public static bool TryReadString(ref MessagePackReader r, bool allowNil, out string? value)
    {
        value = null;
        if (r.End) return allowNil;
        if (r.TryReadNil()) return allowNil;
        if (r.NextMessagePackType != MessagePackType.String) return false;
        var seq = r.ReadStringSequence();
        if (seq is null) return allowNil;
        var bytes = seq.Value;
        if (bytes.IsSingleSegment)
        {
            if (!System.Text.Unicode.Utf8.IsValid(bytes.FirstSpan)) return false;
            value = Encoding.UTF8.GetString(bytes.FirstSpan);
            return true;
        }

        var array = bytes.ToArray();
        if (!System.Text.Unicode.Utf8.IsValid(array)) return false;
        value = Encoding.UTF8.GetString(array);
        return true;
    }

    /// <summary>Reads any MessagePack integer width as a non-negative ulong; nil as null when allowed.</summary>
    public static bool TryReadUInt(ref MessagePackReader r, bool allowNil, out ulong? value)
    {
        value = null;
        if (r.End) return allowNil;
        if (r.TryReadNil()) return allowNil;
        if (r.NextMessagePackType != MessagePackType.Integer) return false;
        var code = r.NextCode;
        if (code is >= MessagePackCode.MinNegativeFixInt or MessagePackCode.Int8 or MessagePackCode.Int16 or MessagePackCode.Int32 or MessagePackCode.Int64)
        {
            var signed = r.ReadInt64();
            if (signed < 0) return false;
            value = (ulong)signed;
            return true;
        }

        value = r.ReadUInt64();
        return true;
    }

    public static bool TryReadBool(ref MessagePackReader r, bool allowNil, out bool? value)
    {
        value = null;
        if (r.End) return allowNil;
        if (r.TryReadNil()) return allowNil;
        if (r.NextMessagePackType != MessagePackType.Boolean) return false;
        value = r.ReadBoolean();
        return true;
    }

    /// <summary>
    /// True when <paramref name="payload"/> is exactly one complete MessagePack value whose outer type is an array.
    /// Iterative (no recursion), so hostile nesting cannot exhaust the stack.
    /// </summary>
    public static bool IsSingleArray(ReadOnlyMemory<byte> payload)
    {
        if (payload.IsEmpty) return false;
        var r = new MessagePackReader(payload);
        try
        {
            if (r.NextMessagePackType != MessagePackType.Array) return false;
            long pending = 1;
            while (pending > 0)
            {
                if (r.End) return false;
                pending--;
                switch (r.NextMessagePackType)
                {
                    case MessagePackType.Array:
                        pending += r.ReadArrayHeader();
                        break;
                    case MessagePackType.Map:
                        pending += 2L * r.ReadMapHeader();
                        break;
                    default:
                        r.Skip();
                        break;
                }

                if (pending > payload.Length) return false;
            }

            return r.End;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException)
        {
            return false;
        }
    }
}
