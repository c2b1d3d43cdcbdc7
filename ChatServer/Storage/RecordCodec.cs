using System.Buffers;
using MessagePack;

namespace ChatServer.Storage;

/// <summary>MessagePack encodings of the stored records (positional arrays, version-tolerant: extra fields are ignored).</summary>
internal static class RecordCodec
{
    public static byte[] Encode(UserRecord r)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(6);
        WriteGuid(ref w, r.Id);
        w.Write(r.Username);
        w.Write(r.DisplayName);
        w.Write(r.MobileNumber);
        w.Write(r.PasswordHash);
        w.Write(r.CreatedAtMs);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static UserRecord DecodeUser(ReadOnlyMemory<byte> bytes)
    {
        var r = new MessagePackReader(bytes);
        var n = r.ReadArrayHeader();
        var rec = new UserRecord(ReadGuid(ref r), r.ReadString()!, r.ReadString()!, r.ReadString(), r.ReadString()!, r.ReadInt64());
        Skip(ref r, n - 6);
        return rec;
    }

    public static byte[] Encode(GroupRecord g)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(6);
        WriteGuid(ref w, g.Id);
        w.Write(g.Name);
        w.Write(g.Description);
        w.Write(g.IsPrivate);
        WriteGuid(ref w, g.OwnerId);
        w.Write(g.CreatedAtMs);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static GroupRecord DecodeGroup(ReadOnlyMemory<byte> bytes)
    {
        var r = new MessagePackReader(bytes);
        var n = r.ReadArrayHeader();
        var rec = new GroupRecord(ReadGuid(ref r), r.ReadString()!, r.ReadString()!, r.ReadBoolean(), ReadGuid(ref r), r.ReadInt64());
        Skip(ref r, n - 6);
        return rec;
    }

    public static byte[] Encode(MemberRecord m)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(5);
        WriteGuid(ref w, m.GroupId);
        WriteGuid(ref w, m.UserId);
        w.Write(m.Role);
        w.Write(m.JoinedAtMs);
        w.Write(m.ReadSeq);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static MemberRecord DecodeMember(ReadOnlyMemory<byte> bytes)
    {
        var r = new MessagePackReader(bytes);
        var n = r.ReadArrayHeader();
        var rec = new MemberRecord(ReadGuid(ref r), ReadGuid(ref r), r.ReadByte(), r.ReadInt64(), r.ReadUInt64());
        Skip(ref r, n - 5);
        return rec;
    }

    public static byte[] Encode(EventRecord e)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (e.Body?.Length ?? 0) * 3);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(12);
        WriteGuid(ref w, e.GroupId);
        w.Write(e.Seq);
        WriteGuid(ref w, e.Id);
        w.Write(e.Kind);
        WriteGuid(ref w, e.ActorId);
        w.Write(e.AtMs);
        w.Write(e.ClientMsgId);
        w.Write(e.Body);
        if (e.TargetSeq is { } t) w.Write(t); else w.WriteNil();
        if (e.EditedAtMs is { } ea) w.Write(ea); else w.WriteNil();
        w.Write(e.Deleted);
        if (e.ByUserId is { } by) WriteGuid(ref w, by); else w.WriteNil();
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static EventRecord DecodeEvent(ReadOnlyMemory<byte> bytes)
    {
        var r = new MessagePackReader(bytes);
        var n = r.ReadArrayHeader();
        var groupId = ReadGuid(ref r);
        var seq = r.ReadUInt64();
        var id = ReadGuid(ref r);
        var kind = r.ReadByte();
        var actor = ReadGuid(ref r);
        var at = r.ReadInt64();
        var clientMsgId = r.ReadString();
        var body = r.ReadString();
        ulong? target = r.TryReadNil() ? null : r.ReadUInt64();
        long? editedAt = r.TryReadNil() ? null : r.ReadInt64();
        var deleted = r.ReadBoolean();
        Guid? by = r.TryReadNil() ? null : ReadGuid(ref r);
        Skip(ref r, n - 12);
        return new EventRecord(groupId, seq, id, kind, actor, at, clientMsgId, body, target, editedAt, deleted, by);
    }

    public static byte[] Encode(LoginRecord l)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(7);
        WriteGuid(ref w, l.Id);
        WriteGuid(ref w, l.UserId);
        w.Write(l.RefreshTokenHash);
        w.Write(l.RefreshExpiresAtMs);
        w.Write(l.CreatedAtMs);
        w.Write(l.Revoked);
        w.Write(l.RevokedAtMs);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static LoginRecord DecodeLogin(ReadOnlyMemory<byte> bytes)
    {
        var r = new MessagePackReader(bytes);
        var n = r.ReadArrayHeader();
        var id = ReadGuid(ref r);
        var user = ReadGuid(ref r);
        var hash = r.ReadBytes()!.Value.ToArray();
        var rec = new LoginRecord(id, user, hash, r.ReadInt64(), r.ReadInt64(), r.ReadBoolean(), r.ReadInt64());
        Skip(ref r, n - 7);
        return rec;
    }

    public static byte[] EncodeUInt64(ulong value)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static ulong DecodeUInt64(ReadOnlySpan<byte> bytes) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes);

    public static void WriteGuid(ref MessagePackWriter w, Guid id)
    {
        w.WriteBinHeader(16);
        var span = w.GetSpan(16);
        id.TryWriteBytes(span, bigEndian: true, out _);
        w.Advance(16);
    }

    public static Guid ReadGuid(ref MessagePackReader r)
    {
        var seq = r.ReadBytes() ?? throw new MessagePackSerializationException("expected a 16-byte id, got nil");
        if (seq.Length != 16) throw new MessagePackSerializationException("expected a 16-byte id");
        Span<byte> bytes = stackalloc byte[16];
        seq.CopyTo(bytes);
        return new Guid(bytes, bigEndian: true);
    }

    private static void Skip(ref MessagePackReader r, int count)
    {
        for (var i = 0; i < count; i++) r.Skip();
    }
}
