using MessagePack;

namespace ChatServer.Client;

/// <summary>The result readers of the typed requests, each delegate created once.</summary>
internal static class Replies
{
    public static readonly ReplyReader<bool> Empty = ReadEmpty;
    public static readonly ReplyReader<long> Int64 = ReadInt64;
    public static readonly ReplyReader<HelloResult> Hello = ReadHello;
    public static readonly ReplyReader<User> User = ReadUser;
    public static readonly ReplyReader<Group> Group = ReadGroup;
    public static readonly ReplyReader<Member> Member = ReadMember;
    public static readonly ReplyReader<Page<Group>> GroupPage = ReadGroupPage;
    public static readonly ReplyReader<Page<Member>> MemberPage = ReadMemberPage;
    public static readonly ReplyReader<OpenResult> Open = ReadOpen;
    public static readonly ReplyReader<IReadOnlyList<SyncItem>> Sync = ReadSync;
    public static readonly ReplyReader<SendResult> Send = ReadSend;
    public static readonly ReplyReader<HistoryResult> History = ReadHistory;

    private static readonly RecordReader<Group> GroupRecord = ChatCodec.ReadGroup;
    private static readonly RecordReader<Member> MemberRecord = ChatCodec.ReadMember;
    private static readonly RecordReader<GroupEvent> EventRecord = ChatCodec.ReadGroupEvent;
    private static readonly RecordReader<SyncItem> SyncRecord = ChatCodec.ReadSyncItem;

    private static bool ReadEmpty(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.SkipFields(ref reader, fieldCount);
        return true;
    }

    private static long ReadInt64(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The reply", fieldCount, 1);
        long value = reader.ReadInt64();
        ChatCodec.SkipFields(ref reader, fieldCount - 1);
        return value;
    }

    private static HelloResult ReadHello(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The Hello reply", fieldCount, 5);
        var hello = new HelloResult(
            UserId: ChatCodec.ReadGuid(ref reader),
            SessionId: ChatCodec.ReadGuid(ref reader),
            HeartbeatMs: reader.ReadInt64(),
            ServerTimeMs: reader.ReadInt64(),
            MaxFrameBytes: reader.ReadInt64());
        ChatCodec.SkipFields(ref reader, fieldCount - 5);
        return hello;
    }

    private static User ReadUser(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The User reply", fieldCount, 1);
        User user = ChatCodec.ReadUser(ref reader);
        ChatCodec.SkipFields(ref reader, fieldCount - 1);
        return user;
    }

    private static Group ReadGroup(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The Group reply", fieldCount, 1);
        Group group = ChatCodec.ReadGroup(ref reader);
        ChatCodec.SkipFields(ref reader, fieldCount - 1);
        return group;
    }

    private static Member ReadMember(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The Member reply", fieldCount, 1);
        Member member = ChatCodec.ReadMember(ref reader);
        ChatCodec.SkipFields(ref reader, fieldCount - 1);
        return member;
    }

    private static Page<Group> ReadGroupPage(ref MessagePackReader reader, int fieldCount) =>
        ReadPage(ref reader, fieldCount, GroupRecord);

    private static Page<Member> ReadMemberPage(ref MessagePackReader reader, int fieldCount) =>
        ReadPage(ref reader, fieldCount, MemberRecord);

    private static Page<T> ReadPage<T>(ref MessagePackReader reader, int fieldCount, RecordReader<T> read)
    {
        ChatCodec.RequireFields("The list reply", fieldCount, 2);
        T[] items = ChatCodec.ReadArray(ref reader, read);
        Guid? next = ChatCodec.ReadNullableGuid(ref reader);
        ChatCodec.SkipFields(ref reader, fieldCount - 2);
        return new Page<T>(items, next);
    }

    private static OpenResult ReadOpen(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The Open reply", fieldCount, 3);
        var open = new OpenResult(
            ChatCodec.ReadGroup(ref reader),
            ChatCodec.ReadArray(ref reader, EventRecord),
            reader.ReadBoolean());
        ChatCodec.SkipFields(ref reader, fieldCount - 3);
        return open;
    }

    private static IReadOnlyList<SyncItem> ReadSync(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The Sync reply", fieldCount, 1);
        SyncItem[] items = ChatCodec.ReadArray(ref reader, SyncRecord);
        ChatCodec.SkipFields(ref reader, fieldCount - 1);
        return items;
    }

    private static SendResult ReadSend(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The Send reply", fieldCount, 3);
        var sent = new SendResult(reader.ReadInt64(), ChatCodec.ReadGuid(ref reader), reader.ReadInt64());
        ChatCodec.SkipFields(ref reader, fieldCount - 3);
        return sent;
    }

    private static HistoryResult ReadHistory(ref MessagePackReader reader, int fieldCount)
    {
        ChatCodec.RequireFields("The History reply", fieldCount, 2);
        var history = new HistoryResult(ChatCodec.ReadArray(ref reader, EventRecord), reader.ReadBoolean());
        ChatCodec.SkipFields(ref reader, fieldCount - 2);
        return history;
    }
}
