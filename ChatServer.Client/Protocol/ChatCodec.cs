using System.Buffers;
using System.Globalization;
using MessagePack;

namespace ChatServer.Client;

/// <summary>
/// Hand-written MessagePack codecs for the protocol's records. Readers accept every integer width, ignore
/// extra trailing record fields and throw <see cref="ChatProtocolException"/> (or the reader's own
/// <see cref="MessagePackSerializationException"/>) for missing fields and wrong types.
/// </summary>
public static partial class ChatCodec
{
    private const int UserFields = 3;
    private const int GroupFields = 11;
    private const int MemberFields = 5;
    private const int GroupEventFields = 11;
    private const int SyncItemFields = 4;

    /// <summary>Reads an id: <c>bin</c> of 16 bytes in RFC 9562 (big-endian) byte order.</summary>
    /// <param name="reader">The reader, positioned at the id.</param>
    /// <returns>The id.</returns>
    public static Guid ReadGuid(ref MessagePackReader reader)
    {
        ReadOnlySequence<byte> bytes = reader.ReadBytes()
            ?? throw new ChatProtocolException("Expected a 16-byte id, found nil.");
        if (bytes.Length != 16)
        {
            throw new ChatProtocolException(string.Create(
                CultureInfo.InvariantCulture, $"Expected a 16-byte id, found {bytes.Length} bytes."));
        }

        if (bytes.IsSingleSegment)
        {
            return new Guid(bytes.FirstSpan, bigEndian: true);
        }

        Span<byte> copy = stackalloc byte[16];
        bytes.CopyTo(copy);
        return new Guid(copy, bigEndian: true);
    }

    /// <summary>Reads an id or nil.</summary>
    /// <param name="reader">The reader, positioned at the id or nil.</param>
    /// <returns>The id, or null for nil.</returns>
    public static Guid? ReadNullableGuid(ref MessagePackReader reader) =>
        reader.TryReadNil() ? null : ReadGuid(ref reader);

    /// <summary>Writes an id as <c>bin</c> of 16 bytes in RFC 9562 (big-endian) byte order.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="id">The id.</param>
    public static void WriteGuid(ref MessagePackWriter writer, Guid id)
    {
        writer.WriteBinHeader(16);
        id.TryWriteBytes(writer.GetSpan(16), bigEndian: true, out _);
        writer.Advance(16);
    }

    /// <summary>Reads a <see cref="User"/> record.</summary>
    /// <param name="reader">The reader, positioned at the record's array.</param>
    /// <returns>The user.</returns>
    public static User ReadUser(ref MessagePackReader reader)
    {
        int count = ReadRecordHeader(ref reader, nameof(User), UserFields);
        var user = new User(
            ReadGuid(ref reader),
            ReadString(ref reader, "User.username"),
            ReadString(ref reader, "User.displayName"));
        SkipFields(ref reader, count - UserFields);
        return user;
    }

    /// <summary>Reads a <see cref="Group"/> record.</summary>
    /// <param name="reader">The reader, positioned at the record's array.</param>
    /// <returns>The group.</returns>
    public static Group ReadGroup(ref MessagePackReader reader)
    {
        int count = ReadRecordHeader(ref reader, nameof(Group), GroupFields);
        var group = new Group(
            GroupId: ReadGuid(ref reader),
            Name: ReadString(ref reader, "Group.name"),
            Description: ReadString(ref reader, "Group.description"),
            IsPrivate: reader.ReadBoolean(),
            OwnerId: ReadGuid(ref reader),
            CreatedAtMs: reader.ReadInt64(),
            MemberCount: reader.ReadInt64(),
            LastSeq: reader.ReadInt64(),
            MyRole: ReadNullableString(ref reader),
            MyReadSeq: ReadNullableInt64(ref reader),
            Unread: ReadNullableInt64(ref reader));
        SkipFields(ref reader, count - GroupFields);
        return group;
    }

    /// <summary>Reads a <see cref="Member"/> record.</summary>
    /// <param name="reader">The reader, positioned at the record's array.</param>
    /// <returns>The member.</returns>
    public static Member ReadMember(ref MessagePackReader reader)
    {
        int count = ReadRecordHeader(ref reader, nameof(Member), MemberFields);
        var member = new Member(
            UserId: ReadGuid(ref reader),
            DisplayName: ReadString(ref reader, "Member.displayName"),
            Role: ReadString(ref reader, "Member.role"),
            JoinedAtMs: reader.ReadInt64(),
            ReadSeq: reader.ReadInt64());
        SkipFields(ref reader, count - MemberFields);
        return member;
    }

    /// <summary>Reads a <see cref="GroupEvent"/> record (an array of its fields).</summary>
    /// <param name="reader">The reader, positioned at the record's array.</param>
    /// <returns>The event.</returns>
    public static GroupEvent ReadGroupEvent(ref MessagePackReader reader)
    {
        int count = ReadRecordHeader(ref reader, nameof(GroupEvent), GroupEventFields);
        return ReadGroupEventFields(ref reader, count);
    }

    /// <summary>
    /// Reads the fields of a <see cref="GroupEvent"/> that are not wrapped in their own array (as in the
    /// Event push, where they follow the type), consuming exactly <paramref name="fieldCount"/> values.
    /// </summary>
    /// <param name="reader">The reader, positioned at the first field.</param>
    /// <param name="fieldCount">How many values belong to the event (at least 11; extras are skipped).</param>
    /// <returns>The event.</returns>
    public static GroupEvent ReadGroupEventFields(ref MessagePackReader reader, int fieldCount)
    {
        RequireFields(nameof(GroupEvent), fieldCount, GroupEventFields);
        var groupEvent = new GroupEvent(
            GroupId: ReadGuid(ref reader),
            Seq: reader.ReadInt64(),
            Kind: (EventKind)reader.ReadInt32(),
            ActorId: ReadGuid(ref reader),
            AtMs: reader.ReadInt64(),
            ClientMsgId: ReadNullableString(ref reader),
            Body: ReadNullableString(ref reader),
            TargetSeq: ReadNullableInt64(ref reader),
            EditedAtMs: ReadNullableInt64(ref reader),
            Deleted: reader.ReadBoolean(),
            ByUserId: ReadNullableGuid(ref reader));
        SkipFields(ref reader, fieldCount - GroupEventFields);
        return groupEvent;
    }

    /// <summary>Reads one entry of a Sync reply: <c>[groupId, lastSeq, unread, GroupEvent]</c>.</summary>
    /// <param name="reader">The reader, positioned at the entry's array.</param>
    /// <returns>The entry.</returns>
    public static SyncItem ReadSyncItem(ref MessagePackReader reader)
    {
        int count = ReadRecordHeader(ref reader, nameof(SyncItem), SyncItemFields);
        var item = new SyncItem(
            GroupId: ReadGuid(ref reader),
            LastSeq: reader.ReadInt64(),
            Unread: reader.ReadInt64(),
            NewestEvent: ReadGroupEvent(ref reader));
        SkipFields(ref reader, count - SyncItemFields);
        return item;
    }

    /// <summary>Reads a MessagePack array of records with <paramref name="read"/>.</summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <param name="reader">The reader, positioned at the array.</param>
    /// <param name="read">The record reader, e.g. <see cref="ReadGroup"/>.</param>
    /// <returns>The records.</returns>
    public static T[] ReadArray<T>(ref MessagePackReader reader, RecordReader<T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        int count = reader.ReadArrayHeader();
        var items = count == 0 ? [] : new T[count];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = read(ref reader);
        }

        return items;
    }

    /// <summary>Reads a required string; nil is a protocol violation.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="field">The field's name for the error message.</param>
    /// <returns>The string.</returns>
    public static string ReadString(ref MessagePackReader reader, string field) =>
        reader.ReadString() ?? throw new ChatProtocolException($"Expected a string for {field}, found nil.");

    /// <summary>Reads a string or nil.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The string, or null for nil.</returns>
    public static string? ReadNullableString(ref MessagePackReader reader) => reader.ReadString();

    /// <summary>Reads an integer of any width, or nil.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value, or null for nil.</returns>
    public static long? ReadNullableInt64(ref MessagePackReader reader) =>
        reader.TryReadNil() ? null : reader.ReadInt64();

    /// <summary>Skips <paramref name="count"/> values (the extra trailing fields of a record or reply).</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="count">How many values to skip; zero or negative skips nothing.</param>
    public static void SkipFields(ref MessagePackReader reader, int count)
    {
        for (int i = 0; i < count; i++)
        {
            reader.Skip();
        }
    }

    internal static int ReadRecordHeader(ref MessagePackReader reader, string record, int minimum)
    {
        int count = reader.ReadArrayHeader();
        RequireFields(record, count, minimum);
        return count;
    }

    internal static void RequireFields(string what, int count, int minimum)
    {
        if (count < minimum)
        {
            throw new ChatProtocolException(string.Create(
                CultureInfo.InvariantCulture, $"{what} has {count} fields; expected at least {minimum}."));
        }
    }
}
