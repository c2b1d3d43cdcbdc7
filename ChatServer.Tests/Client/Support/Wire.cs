using System.Buffers;
using ChatServer.Client;
using MessagePack;

namespace ChatServer.Tests.Client.Support;

public delegate void WriteAction(ref MessagePackWriter writer);

/// <summary>Test-side encoders: build server frames by hand, in any integer width, with extra trailing fields.</summary>
public static class Wire
{
    public static byte[] Build(WriteAction write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static void Int(ref MessagePackWriter w, long value, IntWidth width)
    {
        switch (width)
        {
            case IntWidth.UInt8 when value is >= 0 and <= byte.MaxValue: w.WriteUInt8((byte)value); return;
            case IntWidth.UInt8 or IntWidth.UInt16 when value is >= 0 and <= ushort.MaxValue: w.WriteUInt16((ushort)value); return;
            case IntWidth.UInt8 or IntWidth.UInt16 or IntWidth.UInt32 when value is >= 0 and <= uint.MaxValue: w.WriteUInt32((uint)value); return;
            case IntWidth.UInt8 or IntWidth.UInt16 or IntWidth.UInt32 or IntWidth.UInt64: w.WriteUInt64((ulong)value); return;
            case IntWidth.Int8 when value is >= sbyte.MinValue and <= sbyte.MaxValue: w.WriteInt8((sbyte)value); return;
            case IntWidth.Int8 or IntWidth.Int16 when value is >= short.MinValue and <= short.MaxValue: w.WriteInt16((short)value); return;
            case IntWidth.Int8 or IntWidth.Int16 or IntWidth.Int32 when value is >= int.MinValue and <= int.MaxValue: w.WriteInt32((int)value); return;
            case IntWidth.Int8 or IntWidth.Int16 or IntWidth.Int32 or IntWidth.Int64: w.WriteInt64(value); return;
            default: w.Write(value); return;
        }
    }

    public static void NullableInt(ref MessagePackWriter w, long? value, IntWidth width)
    {
        if (value is { } v)
        {
            Int(ref w, v, width);
        }
        else
        {
            w.WriteNil();
        }
    }

    public static void Id(ref MessagePackWriter w, Guid id) => ChatCodec.WriteGuid(ref w, id);

    public static void NullableId(ref MessagePackWriter w, Guid? id)
    {
        if (id is { } v)
        {
            Id(ref w, v);
        }
        else
        {
            w.WriteNil();
        }
    }

    public static void Str(ref MessagePackWriter w, string? value)
    {
        if (value is null)
        {
            w.WriteNil();
        }
        else
        {
            w.Write(value);
        }
    }

    /// <summary>Extra trailing fields a newer server might send: a string, a map and an array.</summary>
    public static void Extras(ref MessagePackWriter w, int count)
    {
        for (int i = 0; i < count; i++)
        {
            switch (i % 3)
            {
                case 0: w.Write("future"); break;
                case 1: w.WriteMapHeader(1); w.Write("k"); w.Write(1); break;
                default: w.WriteArrayHeader(2); w.Write(true); w.WriteNil(); break;
            }
        }
    }

    public static void User(ref MessagePackWriter w, User u, int extra = 0)
    {
        w.WriteArrayHeader(3 + extra);
        Id(ref w, u.UserId);
        w.Write(u.Username);
        w.Write(u.DisplayName);
        Extras(ref w, extra);
    }

    public static void Group(ref MessagePackWriter w, Group g, IntWidth width = IntWidth.Shortest, int extra = 0)
    {
        w.WriteArrayHeader(11 + extra);
        Id(ref w, g.GroupId);
        w.Write(g.Name);
        w.Write(g.Description);
        w.Write(g.IsPrivate);
        Id(ref w, g.OwnerId);
        Int(ref w, g.CreatedAtMs, width);
        Int(ref w, g.MemberCount, width);
        Int(ref w, g.LastSeq, width);
        Str(ref w, g.MyRole);
        NullableInt(ref w, g.MyReadSeq, width);
        NullableInt(ref w, g.Unread, width);
        Extras(ref w, extra);
    }

    public static void Member(ref MessagePackWriter w, Member m, IntWidth width = IntWidth.Shortest, int extra = 0)
    {
        w.WriteArrayHeader(5 + extra);
        Id(ref w, m.UserId);
        w.Write(m.DisplayName);
        w.Write(m.Role);
        Int(ref w, m.JoinedAtMs, width);
        Int(ref w, m.ReadSeq, width);
        Extras(ref w, extra);
    }

    public static void Event(ref MessagePackWriter w, GroupEvent e, IntWidth width = IntWidth.Shortest, int extra = 0)
    {
        w.WriteArrayHeader(11 + extra);
        EventFields(ref w, e, width, extra);
    }

    public static void EventFields(ref MessagePackWriter w, GroupEvent e, IntWidth width = IntWidth.Shortest, int extra = 0)
    {
        Id(ref w, e.GroupId);
        Int(ref w, e.Seq, width);
        Int(ref w, (long)e.Kind, width);
        Id(ref w, e.ActorId);
        Int(ref w, e.AtMs, width);
        Str(ref w, e.ClientMsgId);
        Str(ref w, e.Body);
        NullableInt(ref w, e.TargetSeq, width);
        NullableInt(ref w, e.EditedAtMs, width);
        w.Write(e.Deleted);
        NullableId(ref w, e.ByUserId);
        Extras(ref w, extra);
    }

    public static void SyncItem(ref MessagePackWriter w, SyncItem s, IntWidth width = IntWidth.Shortest, int extra = 0)
    {
        w.WriteArrayHeader(4 + extra);
        Id(ref w, s.GroupId);
        Int(ref w, s.LastSeq, width);
        Int(ref w, s.Unread, width);
        Event(ref w, s.NewestEvent, width, extra);
        Extras(ref w, extra);
    }

    /// <summary>A success reply <c>[0, rid, ...result]</c>.</summary>
    public static byte[] Reply(uint rid, int resultCount, WriteAction writeResult, IntWidth width = IntWidth.Shortest) =>
        Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2 + resultCount);
            Int(ref w, 0, width);
            Int(ref w, rid, width);
            writeResult(ref w);
        });

    /// <summary>An error reply <c>[1, rid, code, title, status, retryAfterMs]</c>.</summary>
    public static byte[] Error(uint rid, string code, string title, int status, long? retryAfterMs = null, int extra = 0) =>
        Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6 + extra);
            w.Write(1);
            w.Write(rid);
            w.Write(code);
            w.Write(title);
            w.Write(status);
            NullableInt(ref w, retryAfterMs, IntWidth.Shortest);
            Extras(ref w, extra);
        });

    /// <summary>A push <c>[2, type, ...fields]</c>.</summary>
    public static byte[] Push(int type, int fieldCount, WriteAction writeFields) =>
        Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2 + fieldCount);
            w.Write(2);
            w.Write(type);
            writeFields(ref w);
        });

    public static readonly Guid GroupId = Guid.Parse("0190a8b2-7c3d-7e4f-8a5b-6c7d8e9fa0b1");
    public static readonly Guid UserA = Guid.Parse("0190a8b2-0000-7000-8000-00000000000a");
    public static readonly Guid UserB = Guid.Parse("0190a8b2-0000-7000-8000-00000000000b");
    public const long Now = 1_764_400_000_000;

    public static Group SampleGroup(bool member = true) => new(
        GroupId, "Team", "Our team", IsPrivate: true, UserA, Now, MemberCount: 3, LastSeq: 42,
        member ? ChatRoles.Owner : null, member ? 40 : null, member ? 2 : null);

    public static GroupEvent SampleMessage(long seq = 7) => new(
        GroupId, seq, EventKind.Message, UserA, Now + seq, "c-1", "hi", null, null, false, null);

    public static GroupEvent SampleJoin() => new(
        GroupId, 3, EventKind.MemberJoined, UserB, Now, null, null, null, null, false, UserA);

    public static GroupEvent SampleEdit() => new(
        GroupId, 9, EventKind.Edit, UserA, Now, null, "fixed", 7, null, false, null);
}
