using System.Net.WebSockets;
using ChatServer.Client;
using ChatServer.Tests.Client.Support;
using MessagePack;

namespace ChatServer.Tests.Client;

public sealed class ChatSocketPushTests
{
    public static TheoryData<IntWidth> AllWidths() => new(Enum.GetValues<IntWidth>());

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task An_event_push_decodes_the_flattened_group_event(IntWidth width)
    {
        await using var server = FakeChatServer.Start();
        GroupEvent message = Wire.SampleMessage();

        await server.SendAsync(Wire.Push(1, 13, (ref MessagePackWriter w) => Wire.EventFields(ref w, message, width, extra: 2)));

        EventPush push = await server.Client.Pushes.NextPushAsync<EventPush>();
        Assert.Equal(message, push.Event);
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task Typing_read_up_to_gap_synced_and_goodbye_pushes_are_decoded_in_order(IntWidth width)
    {
        await using var server = FakeChatServer.Start();

        await server.SendAsync(Wire.Push(6, 3, (ref MessagePackWriter w) =>
        {
            Wire.Id(ref w, Wire.GroupId);
            Wire.Id(ref w, Wire.UserB);
            w.Write("extra");
        }));
        await server.SendAsync(Wire.Push(7, 3, (ref MessagePackWriter w) =>
        {
            Wire.Id(ref w, Wire.GroupId);
            Wire.Id(ref w, Wire.UserA);
            Wire.Int(ref w, 12, width);
        }));
        await server.SendAsync(Wire.Push(8, 3, (ref MessagePackWriter w) =>
        {
            Wire.Id(ref w, Wire.GroupId);
            Wire.Int(ref w, 5, width);
            Wire.Int(ref w, 70_000, width);
        }));
        await server.SendAsync(Wire.Push(9, 0, (ref MessagePackWriter w) => { }));
        await server.SendAsync(Wire.Push(9, 1, (ref MessagePackWriter w) => w.Write(1)));
        await server.SendAsync(Wire.Push(10, 2, (ref MessagePackWriter w) =>
        {
            w.Write("server_shutdown");
            Wire.Int(ref w, 1500, width);
        }));
        await server.SendAsync(Wire.Push(10, 2, (ref MessagePackWriter w) =>
        {
            w.Write("token_revoked");
            w.WriteNil();
        }));

        Assert.Equal(new TypingPush(Wire.GroupId, Wire.UserB), await server.Client.Pushes.NextPushAsync<TypingPush>());
        Assert.Equal(new ReadUpToPush(Wire.GroupId, Wire.UserA, 12), await server.Client.Pushes.NextPushAsync<ReadUpToPush>());
        Assert.Equal(new GapPush(Wire.GroupId, 5, 70_000), await server.Client.Pushes.NextPushAsync<GapPush>());
        Assert.Same(SyncedPush.Instance, await server.Client.Pushes.NextPushAsync<SyncedPush>());
        Assert.Same(SyncedPush.Instance, await server.Client.Pushes.NextPushAsync<SyncedPush>());
        Assert.Equal(new GoodbyePush("server_shutdown", 1500), await server.Client.Pushes.NextPushAsync<GoodbyePush>());
        Assert.Equal(new GoodbyePush("token_revoked", null), await server.Client.Pushes.NextPushAsync<GoodbyePush>());
    }

    [Fact]
    public async Task Pushes_and_replies_interleave_without_losing_order()
    {
        await using var server = FakeChatServer.Start();

        Task<long> delete = server.Client.DeleteAsync(Wire.GroupId, 7);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Delete);
        for (int seq = 1; seq <= 50; seq++)
        {
            GroupEvent e = Wire.SampleMessage(seq);
            await server.SendAsync(Wire.Push(1, 11, (ref MessagePackWriter w) => Wire.EventFields(ref w, e)));
            if (seq == 25)
            {
                await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => w.Write(99)));
            }
        }

        Assert.Equal(99, await delete.Within());
        for (int seq = 1; seq <= 50; seq++)
        {
            Assert.Equal(seq, (await server.Client.Pushes.NextPushAsync<EventPush>()).Event.Seq);
        }
    }

    [Fact]
    public async Task A_push_of_an_unknown_type_is_kept_as_an_unknown_push()
    {
        await using var server = FakeChatServer.Start();
        byte[] frame = Wire.Push(42, 2, (ref MessagePackWriter w) =>
        {
            w.Write("a");
            w.Write(1);
        });

        await server.SendAsync(frame);

        UnknownPush push = await server.Client.Pushes.NextPushAsync<UnknownPush>();
        Assert.Equal(42, push.Type);
        Assert.Equal(frame, push.Frame.ToArray());
    }

    [Fact]
    public async Task A_push_missing_fields_is_reported_as_unexpected_and_the_loop_goes_on()
    {
        await using var server = FakeChatServer.Start();

        await server.SendAsync(Wire.Push(8, 1, (ref MessagePackWriter w) => Wire.Id(ref w, Wire.GroupId)));
        await server.SendAsync(Wire.Push(9, 0, (ref MessagePackWriter w) => { }));

        UnexpectedFramePush bad = await server.Client.Pushes.NextPushAsync<UnexpectedFramePush>();
        Assert.Contains("Gap push has 1 fields", bad.Reason, StringComparison.Ordinal);
        await server.Client.Pushes.NextPushAsync<SyncedPush>();
    }

    [Theory]
    [InlineData(new byte[] { 0x93, 0x03, 0x01, 0xC0 }, "kind 3")]
    [InlineData(new byte[] { 0x91, 0x00 }, "fewer than 2")]
    [InlineData(new byte[] { 0xC0 }, "Malformed")]
    [InlineData(new byte[] { 0x92, 0x02, 0x09, 0xC0 }, "Trailing bytes")]
    [InlineData(new byte[] { 0x93, 0x02, 0x01 }, "Malformed")]
    public async Task A_malformed_message_is_reported_as_unexpected(byte[] message, string reason)
    {
        await using var server = FakeChatServer.Start();

        await server.SendAsync(message);

        UnexpectedFramePush push = await server.Client.Pushes.NextPushAsync<UnexpectedFramePush>();
        Assert.Contains(reason, push.Reason, StringComparison.Ordinal);
        Assert.Equal(message, push.Frame.ToArray());
    }

    [Fact]
    public async Task A_text_message_is_reported_as_unexpected()
    {
        await using var server = FakeChatServer.Start();

        await server.SendTextAsync("hello");

        UnexpectedFramePush push = await server.Client.Pushes.NextPushAsync<UnexpectedFramePush>();
        Assert.Contains("text", push.Reason, StringComparison.Ordinal);
        Assert.Equal(WebSocketState.Open, server.Client.State);
    }

    [Fact]
    public async Task A_push_split_over_many_websocket_frames_is_reassembled()
    {
        await using var server = FakeChatServer.Start(new ChatSocketOptions { ReceiveBufferBytes = 256 });
        GroupEvent message = Wire.SampleMessage() with { Body = new string('é', 8000) };

        await server.SendFragmentedAsync(Wire.Push(1, 11, (ref MessagePackWriter w) => Wire.EventFields(ref w, message)), 100);

        Assert.Equal(message, (await server.Client.Pushes.NextPushAsync<EventPush>()).Event);
    }

    [Fact]
    public async Task With_discard_pushes_only_replies_are_delivered()
    {
        await using var server = FakeChatServer.Start(new ChatSocketOptions { DiscardPushes = true });

        Task<long> delete = server.Client.DeleteAsync(Wire.GroupId, 7);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Delete);
        await server.SendAsync(Wire.Push(9, 0, (ref MessagePackWriter w) => { }));
        await server.SendAsync(new byte[] { 0xC1 });
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => w.Write(8)));

        Assert.Equal(8, await delete.Within());
        await server.CloseAsync(ChatCloseCodes.Normal, "");
        await server.Client.Closed.Within();
        Assert.False(server.Client.Pushes.TryRead(out _));
    }
}
