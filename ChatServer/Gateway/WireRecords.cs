using System.Buffers;
using ChatServer.Chat;
using ChatServer.Protocol;
using ChatServer.Storage;
using MessagePack;

namespace ChatServer.Gateway;

/// <summary>Writes the protocol's records (PROTOCOL.md §3 Records) and frames from the services' values.</summary>
internal static class WireRecords
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    public static void WriteUser(ref MessagePackWriter w, UserRecord u)
    {
        w.WriteArrayHeader(3);
        Wire.WriteUuid(ref w, u.Id);
        w.Write(u.Username);
        w.Write(u.DisplayName);
    }

    public static void WriteGroup(ref MessagePackWriter w, GroupView v)
    {
        w.WriteArrayHeader(11);
        Wire.WriteUuid(ref w, v.Group.Id);
        w.Write(v.Group.Name);
        w.Write(v.Group.Description);
        w.Write(v.Group.IsPrivate);
        Wire.WriteUuid(ref w, v.Group.OwnerId);
        Wire.WriteLong(ref w, v.Group.CreatedAtMs);
        w.Write((uint)v.MemberCount);
        w.Write(v.LastSeq);
        if (v.MyRole is { } role) w.Write(Roles.Name(role)); else w.WriteNil();
        Wire.WriteUInt(ref w, v.MyReadSeq);
        Wire.WriteUInt(ref w, v.Unread is { } u ? (ulong)u : null);
    }

    public static void WriteMember(ref MessagePackWriter w, MemberView m)
    {
        w.WriteArrayHeader(5);
        Wire.WriteUuid(ref w, m.Member.UserId);
        w.Write(m.DisplayName);
        w.Write(Roles.Name(m.Member.Role));
        Wire.WriteLong(ref w, m.Member.JoinedAtMs);
        w.Write(m.Member.ReadSeq);
    }

    /// <summary>The 11 GroupEvent fields, without an array header (pushes flatten them after the type).</summary>
    public static void WriteEventFields(ref MessagePackWriter w, EventRecord e)
    {
        Wire.WriteUuid(ref w, e.GroupId);
        w.Write(e.Seq);
        w.Write(e.Kind);
        Wire.WriteUuid(ref w, e.ActorId);
        Wire.WriteLong(ref w, e.AtMs);
        w.Write(e.ClientMsgId);
        w.Write(e.Body);
        Wire.WriteUInt(ref w, e.TargetSeq);
        Wire.WriteLong(ref w, e.EditedAtMs);
        w.Write(e.Deleted);
        Wire.WriteUuidOrNil(ref w, e.ByUserId);
    }

    /// <summary>A GroupEvent array: encoded once per record and kept on it (<see cref="EventRecord.WireEncoding"/>), then copied.</summary>
    public static void WriteEvent(ref MessagePackWriter w, EventRecord e)
    {
        if (e.WireEncoding is not { } encoded)
        {
            var buffer = t_scratch ??= new ArrayBufferWriter<byte>(1024);
            buffer.ResetWrittenCount();
            var own = new MessagePackWriter(buffer);
            own.WriteArrayHeader(11);
            WriteEventFields(ref own, e);
            own.Flush();
            encoded = buffer.WrittenSpan.ToArray();
            e.WireEncoding = encoded;
        }

        w.WriteRaw(encoded);
    }

    public static byte[] EventPush(EventRecord e)
    {
        var fb = FrameBuilder.Current;
        var w = fb.Start();
        w.WriteArrayHeader(13);
        w.Write(FrameKinds.Push);
        w.Write(FrameKinds.PushEvent);
        WriteEventFields(ref w, e);
        return fb.ToFrame(ref w);
    }

    public static byte[] GapPush(Guid groupId, ulong from, ulong to)
    {
        var fb = FrameBuilder.Current;
        var w = fb.Start();
        w.WriteArrayHeader(5);
        w.Write(FrameKinds.Push);
        w.Write(FrameKinds.PushGap);
        Wire.WriteUuid(ref w, groupId);
        w.Write(from);
        w.Write(to);
        return fb.ToFrame(ref w);
    }

    public static byte[] TypingPush(Guid groupId, Guid userId)
    {
        var fb = FrameBuilder.Current;
        var w = fb.Start();
        w.WriteArrayHeader(4);
        w.Write(FrameKinds.Push);
        w.Write(FrameKinds.PushTyping);
        Wire.WriteUuid(ref w, groupId);
        Wire.WriteUuid(ref w, userId);
        return fb.ToFrame(ref w);
    }

    public static byte[] ReadUpToPush(Guid groupId, Guid userId, ulong seq)
    {
        var fb = FrameBuilder.Current;
        var w = fb.Start();
        w.WriteArrayHeader(5);
        w.Write(FrameKinds.Push);
        w.Write(FrameKinds.PushReadUpTo);
        Wire.WriteUuid(ref w, groupId);
        Wire.WriteUuid(ref w, userId);
        w.Write(seq);
        return fb.ToFrame(ref w);
    }

    public static byte[] SyncedPush()
    {
        var fb = FrameBuilder.Current;
        var w = fb.Start();
        w.WriteArrayHeader(2);
        w.Write(FrameKinds.Push);
        w.Write(FrameKinds.PushSynced);
        return fb.ToFrame(ref w);
    }

    public static byte[] GoodbyePush(string reason, long? retryAfterMs)
    {
        var fb = FrameBuilder.Current;
        var w = fb.Start();
        w.WriteArrayHeader(4);
        w.Write(FrameKinds.Push);
        w.Write(FrameKinds.PushGoodbye);
        w.Write(reason);
        Wire.WriteLong(ref w, retryAfterMs);
        return fb.ToFrame(ref w);
    }

    public static byte[] ErrorReply(uint rid, ChatError error)
    {
        var fb = FrameBuilder.Current;
        var w = fb.Start();
        w.WriteArrayHeader(6);
        w.Write(FrameKinds.Error);
        w.Write(rid);
        w.Write(error.Code);
        w.Write(error.Detail is null ? error.Title : $"{error.Title}: {error.Detail}");
        w.Write((uint)error.Status);
        Wire.WriteLong(ref w, error.RetryAfterMs);
        return fb.ToFrame(ref w);
    }

    /// <summary>Starts a success reply <c>[0, rid, ...]</c> with <paramref name="resultCount"/> result fields to follow.</summary>
    public static MessagePackWriter StartReply(FrameBuilder fb, uint rid, int resultCount)
    {
        var w = fb.Start();
        w.WriteArrayHeader(2 + resultCount);
        w.Write(FrameKinds.Reply);
        w.Write(rid);
        return w;
    }
}
