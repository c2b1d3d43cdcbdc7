using ChatServer.Client;
using ChatServer.Tests.Client.Support;
using MessagePack;

namespace ChatServer.Tests.Client;

public sealed class ChatCodecTests
{
    public static TheoryData<IntWidth> AllWidths() => new(Enum.GetValues<IntWidth>());

    [Fact]
    public void Ids_are_written_as_bin16_in_RFC_9562_byte_order()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");

        byte[] bytes = Wire.Build((ref MessagePackWriter w) => ChatCodec.WriteGuid(ref w, id));

        Assert.Equal(Convert.FromHexString("C41000112233445566778899AABBCCDDEEFF"), bytes);
    }

    [Fact]
    public void Ids_round_trip_through_the_codec()
    {
        Guid id = Guid.CreateVersion7();
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => ChatCodec.WriteGuid(ref w, id));

        var reader = new MessagePackReader(bytes);

        Assert.Equal(id, ChatCodec.ReadGuid(ref reader));
        Assert.True(reader.End);
    }

    [Fact]
    public void An_id_of_the_wrong_length_is_a_protocol_error()
    {
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => w.Write(new byte[15]));

        Assert.Throws<ChatProtocolException>(() =>
        {
            var reader = new MessagePackReader(bytes);
            ChatCodec.ReadGuid(ref reader);
        });
    }

    [Fact]
    public void An_id_sent_as_a_string_is_rejected()
    {
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => w.Write(Wire.GroupId.ToString()));

        Assert.Throws<MessagePackSerializationException>(() =>
        {
            var reader = new MessagePackReader(bytes);
            ChatCodec.ReadGuid(ref reader);
        });
    }

    [Fact]
    public void A_user_record_is_decoded()
    {
        var user = new User(Wire.UserA, "alice", "Alice");
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => Wire.User(ref w, user));

        var reader = new MessagePackReader(bytes);

        Assert.Equal(user, ChatCodec.ReadUser(ref reader));
        Assert.True(reader.End);
    }

    [Fact]
    public void A_user_record_with_extra_trailing_fields_is_decoded_and_fully_consumed()
    {
        var user = new User(Wire.UserA, "alice", "Alice");
        byte[] bytes = Wire.Build((ref MessagePackWriter w) =>
        {
            Wire.User(ref w, user, extra: 3);
            w.Write("next");
        });

        var reader = new MessagePackReader(bytes);

        Assert.Equal(user, ChatCodec.ReadUser(ref reader));
        Assert.Equal("next", reader.ReadString());
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void A_group_record_is_decoded_from_any_integer_width(IntWidth width)
    {
        Group group = Wire.SampleGroup();
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => Wire.Group(ref w, group, width));

        var reader = new MessagePackReader(bytes);

        Assert.Equal(group, ChatCodec.ReadGroup(ref reader));
        Assert.True(reader.End);
    }

    [Fact]
    public void A_group_seen_by_a_non_member_has_null_role_read_seq_and_unread()
    {
        Group group = Wire.SampleGroup(member: false);
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => Wire.Group(ref w, group, extra: 2));

        var reader = new MessagePackReader(bytes);
        Group decoded = ChatCodec.ReadGroup(ref reader);

        Assert.Null(decoded.MyRole);
        Assert.Null(decoded.MyReadSeq);
        Assert.Null(decoded.Unread);
        Assert.Equal(group, decoded);
        Assert.True(reader.End);
    }

    [Fact]
    public void A_group_record_missing_fields_is_a_protocol_error()
    {
        byte[] bytes = Wire.Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            Wire.Id(ref w, Wire.GroupId);
            w.Write("Team");
        });

        ChatProtocolException error = Assert.Throws<ChatProtocolException>(() =>
        {
            var reader = new MessagePackReader(bytes);
            ChatCodec.ReadGroup(ref reader);
        });
        Assert.Contains("Group has 2 fields", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void A_member_record_is_decoded_from_any_integer_width(IntWidth width)
    {
        var member = new Member(Wire.UserB, "Bob", ChatRoles.Admin, Wire.Now, 12);
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => Wire.Member(ref w, member, width, extra: 1));

        var reader = new MessagePackReader(bytes);

        Assert.Equal(member, ChatCodec.ReadMember(ref reader));
        Assert.True(reader.End);
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void A_group_event_record_is_decoded_from_any_integer_width(IntWidth width)
    {
        GroupEvent message = Wire.SampleMessage() with { EditedAtMs = Wire.Now + 100 };
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => Wire.Event(ref w, message, width));

        var reader = new MessagePackReader(bytes);

        Assert.Equal(message, ChatCodec.ReadGroupEvent(ref reader));
        Assert.True(reader.End);
    }

    [Fact]
    public void Group_events_of_every_kind_keep_their_optional_fields()
    {
        GroupEvent[] events =
        [
            Wire.SampleMessage(),
            Wire.SampleEdit(),
            Wire.SampleJoin(),
            new(Wire.GroupId, 10, EventKind.Delete, Wire.UserA, Wire.Now, null, null, 7, null, false, null),
            new(Wire.GroupId, 11, EventKind.RoleChanged, Wire.UserB, Wire.Now, null, ChatRoles.Admin, null, null, false, Wire.UserA),
            new(Wire.GroupId, 12, (EventKind)99, Wire.UserB, Wire.Now, null, null, null, null, false, null),
        ];
        byte[] bytes = Wire.Build((ref MessagePackWriter w) =>
        {
            foreach (GroupEvent e in events)
            {
                Wire.Event(ref w, e, extra: 2);
            }
        });

        var reader = new MessagePackReader(bytes);

        foreach (GroupEvent expected in events)
        {
            Assert.Equal(expected, ChatCodec.ReadGroupEvent(ref reader));
        }

        Assert.True(reader.End);
    }

    [Fact]
    public void Flattened_group_event_fields_consume_exactly_the_given_count()
    {
        GroupEvent message = Wire.SampleMessage();
        byte[] bytes = Wire.Build((ref MessagePackWriter w) =>
        {
            Wire.EventFields(ref w, message, IntWidth.UInt64, extra: 2);
            w.Write("after");
        });

        var reader = new MessagePackReader(bytes);

        Assert.Equal(message, ChatCodec.ReadGroupEventFields(ref reader, 13));
        Assert.Equal("after", reader.ReadString());
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public void A_sync_item_is_decoded_from_any_integer_width(IntWidth width)
    {
        var item = new SyncItem(Wire.GroupId, 42, 5, Wire.SampleMessage(42));
        byte[] bytes = Wire.Build((ref MessagePackWriter w) => Wire.SyncItem(ref w, item, width, extra: 1));

        var reader = new MessagePackReader(bytes);

        Assert.Equal(item, ChatCodec.ReadSyncItem(ref reader));
        Assert.True(reader.End);
    }

    [Fact]
    public void A_sync_item_without_its_event_is_a_protocol_error()
    {
        byte[] bytes = Wire.Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(4);
            Wire.Id(ref w, Wire.GroupId);
            w.Write(1);
            w.Write(0);
            w.WriteNil();
        });

        Assert.ThrowsAny<Exception>(() =>
        {
            var reader = new MessagePackReader(bytes);
            ChatCodec.ReadSyncItem(ref reader);
        });
    }

    [Fact]
    public void A_required_string_sent_as_nil_is_a_protocol_error()
    {
        byte[] bytes = Wire.Build((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            Wire.Id(ref w, Wire.UserA);
            w.WriteNil();
            w.Write("Alice");
        });

        Assert.Throws<ChatProtocolException>(() =>
        {
            var reader = new MessagePackReader(bytes);
            ChatCodec.ReadUser(ref reader);
        });
    }

    [Fact]
    public void Build_request_writes_op_rid_and_arguments_in_the_shortest_unsigned_forms()
    {
        byte[] frame = ChatCodec.BuildRequest((int)ChatOp.Send, 300, [Wire.GroupId, "c-1", "hi", 70000L, null, true]);

        var reader = new MessagePackReader(frame);
        Assert.Equal(8, reader.ReadArrayHeader());
        Assert.Equal(48, reader.NextCode); // positive fixint
        Assert.Equal(48, reader.ReadInt32());
        Assert.Equal(MessagePackCode.UInt16, reader.NextCode);
        Assert.Equal(300u, reader.ReadUInt32());
        Assert.Equal(Wire.GroupId, ChatCodec.ReadGuid(ref reader));
        Assert.Equal("c-1", reader.ReadString());
        Assert.Equal("hi", reader.ReadString());
        Assert.Equal(MessagePackCode.UInt32, reader.NextCode);
        Assert.Equal(70000L, reader.ReadInt64());
        Assert.True(reader.TryReadNil());
        Assert.True(reader.ReadBoolean());
        Assert.True(reader.End);
    }

    [Fact]
    public void Build_request_writes_a_seq_map_raw_bytes_and_nested_arrays()
    {
        var map = new Dictionary<Guid, long> { [Wire.GroupId] = 5 };
        byte[] frame = ChatCodec.BuildRequest(
            (int)ChatOp.Sync, 1, [map, new RawMessagePack(new byte[] { 0xC0 }), new object?[] { 1, "x" }]);

        var reader = new MessagePackReader(frame);
        Assert.Equal(5, reader.ReadArrayHeader());
        reader.Skip();
        reader.Skip();
        Assert.Equal(1, reader.ReadMapHeader());
        Assert.Equal(Wire.GroupId, ChatCodec.ReadGuid(ref reader));
        Assert.Equal(5, reader.ReadInt64());
        Assert.True(reader.TryReadNil());
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(1, reader.ReadInt32());
        Assert.Equal("x", reader.ReadString());
        Assert.True(reader.End);
    }

    [Fact]
    public void Build_request_refuses_values_it_cannot_encode()
    {
        Assert.Throws<ArgumentException>(() => ChatCodec.BuildRequest(1, 1, [new object()]));
    }
}
