using System.Net.WebSockets;
using ChatServer.Client;
using ChatServer.Tests.Client.Support;
using MessagePack;

namespace ChatServer.Tests.Client;

public sealed class ChatSocketRawTests
{
    [Fact]
    public async Task A_raw_request_with_rid_zero_receives_the_error_reply_for_rid_zero()
    {
        await using var server = FakeChatServer.Start();
        byte[] hello = ChatCodec.BuildRequest((int)ChatOp.Hello, 0, ["token", null]);

        Task<RawReply> reply = server.Client.RequestRawAsync(hello, 0);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Hello);
        await server.SendAsync(Wire.Error(0, ChatErrorCodes.InvalidArgument, "rid 0", 400));

        RawReply raw = await reply.Within();
        Assert.Equal(hello, request.Frame);
        Assert.True(raw.IsError);
        Assert.Equal(0u, raw.Rid);
        Assert.Equal(ChatErrorCodes.InvalidArgument, raw.Error!.Code);
        Assert.Equal(4, raw.ResultCount);
        Assert.Throws<ChatApiException>(() => raw.EnsureSuccess());
    }

    [Fact]
    public async Task A_raw_request_with_loose_arguments_returns_the_undecoded_result()
    {
        await using var server = FakeChatServer.Start();
        Group group = Wire.SampleGroup();

        Task<RawReply> reply = server.Client.RequestRawAsync((int)ChatOp.GetGroup, [Wire.GroupId, "extra", 5]);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.GetGroup);
        await server.SendAsync(Wire.Reply(request.Rid, 2, (ref MessagePackWriter w) =>
        {
            Wire.Group(ref w, group);
            w.Write("trailing");
        }));

        RawReply raw = (await reply.Within()).EnsureSuccess();
        Assert.Equal(3, request.ArgCount);
        Assert.Equal(request.Rid, raw.Rid);
        Assert.Equal(2, raw.ResultCount);
        MessagePackReader result = raw.CreateResultReader();
        Assert.Equal(group, ChatCodec.ReadGroup(ref result));
        Assert.Equal("trailing", result.ReadString());
    }

    [Fact]
    public async Task Raw_requests_sharing_a_rid_are_each_answered_in_order()
    {
        await using var server = FakeChatServer.Start();
        byte[] unknown = ChatCodec.BuildRequest(99, 7, []);

        Task<RawReply> first = server.Client.RequestRawAsync(unknown, 7);
        Task<RawReply> second = server.Client.RequestRawAsync(unknown, 7);
        await server.ReceiveAsync();
        await server.ReceiveAsync();
        await server.SendAsync(Wire.Error(7, ChatErrorCodes.UnknownOp, "first", 400));
        await server.SendAsync(Wire.Error(7, ChatErrorCodes.UnknownOp, "second", 400));

        Assert.Equal("first", (await first.Within()).Error!.Title);
        Assert.Equal("second", (await second.Within()).Error!.Title);
    }

    [Fact]
    public async Task Send_raw_sends_bytes_verbatim_as_text_or_binary()
    {
        await using var server = FakeChatServer.Start();

        await server.Client.SendRawAsync(new byte[] { 0x92, 0x10 }).Within();
        await server.Client.SendRawAsync("{}"u8.ToArray(), WebSocketMessageType.Text).Within();

        ReceivedRequest? truncated = await server.ReceiveAsync();
        ReceivedRequest? text = await server.ReceiveAsync();
        Assert.Equal(new byte[] { 0x92, 0x10 }, truncated!.Frame);
        Assert.Equal(WebSocketMessageType.Text, text!.Type);
        Assert.Equal("{}"u8.ToArray(), text.Frame);
    }

    [Fact]
    public async Task A_raw_request_fails_with_the_close_when_the_server_closes_instead_of_answering()
    {
        await using var server = FakeChatServer.Start();

        Task<RawReply> reply = server.Client.RequestRawAsync((int)ChatOp.Hello, [new RawMessagePack(new byte[] { 0xC1 })]);
        await server.ReceiveAsync();
        await server.CloseAsync(ChatCloseCodes.BadPayload, "bad payload");

        ChatConnectionClosedException error = await Assert.ThrowsAsync<ChatConnectionClosedException>(() => reply.Within());
        Assert.Equal(ChatCloseCodes.BadPayload, error.CloseStatus);
    }

    [Theory]
    [InlineData("http://localhost:5000", "ws://localhost:5000/v1/ws")]
    [InlineData("https://chat.example/", "wss://chat.example/v1/ws")]
    [InlineData("ws://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws")]
    [InlineData("ws://127.0.0.1:8080/custom/ws", "ws://127.0.0.1:8080/custom/ws")]
    public void Gateway_addresses_map_to_the_websocket_endpoint(string address, string expected)
    {
        Assert.Equal(new Uri(expected), ChatSocket.ToWebSocketUri(new Uri(address)));
    }
}
