using System.Text;
using ChatServer.Gateway.WebSockets;

namespace ChatServer.Tests.WebSockets;

public sealed class ReceiveTests
{
    private static Task<WebSocketMessage> ReceiveAsync(WebSocketConnection connection)
        => connection.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);

    private static async Task AssertClosedWithAsync(WebSocketConnection connection, TestConnectionContext context, ushort code)
    {
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(WebSocketMessageType.Close, message.Type);
        Assert.Equal(code, message.CloseStatus);
        ServerFrame? frame = await context.ReadFrameAsync();
        Assert.NotNull(frame);
        Assert.Equal(WebSocketFrames.OpClose, frame.Opcode);
        Assert.Equal(code, frame.CloseCode);
        await connection.Completion.WaitAsync(TestTimeouts.Default);
        Assert.Null(await context.ReadFrameAsync());
        WebSocketMessage again = await ReceiveAsync(connection);
        Assert.Equal(WebSocketMessageType.Close, again.Type);
        Assert.Equal(code, again.CloseStatus);
    }

    private static async Task AssertViolationAsync(byte[] bytes, ushort code, WebSocketOptions? options = null)
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync(options);
        await context.SendAsync(bytes);
        await AssertClosedWithAsync(connection, context, code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public async Task Binary_messages_of_every_length_form_arrive_unmasked(int length)
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync(new WebSocketOptions { MaxMessageBytes = 70_000 });
        byte[] payload = new byte[length];
        new Random(length).NextBytes(payload);
        await context.SendAsync(ClientFrames.Binary(payload));
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(WebSocketMessageType.Binary, message.Type);
        Assert.Equal(payload, message.Payload.ToArray());
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Frames_split_at_every_byte_give_the_same_messages()
    {
        byte[] stream = ClientFrames.Concat(
            ClientFrames.Text("Hel", fin: false),
            ClientFrames.Build(WebSocketFrames.OpPing, "p"u8),
            ClientFrames.Continuation(Encoding.UTF8.GetBytes("lo €"), fin: true),
            ClientFrames.Binary(new byte[130]),
            ClientFrames.Close(1000, "bye"));
        for (int split = 1; split < stream.Length; split++)
        {
            var (connection, context) = await WebSocketTestConnection.OpenAsync();
            await context.SendAsync(stream[..split]);
            Task<WebSocketMessage> first = ReceiveAsync(connection);
            await context.SendAsync(stream[split..]);
            WebSocketMessage text = await first;
            Assert.Equal(WebSocketMessageType.Text, text.Type);
            Assert.Equal("Hello €", Encoding.UTF8.GetString(text.Payload.Span));
            WebSocketMessage binary = await ReceiveAsync(connection);
            Assert.Equal(WebSocketMessageType.Binary, binary.Type);
            Assert.Equal(130, binary.Payload.Length);
            WebSocketMessage close = await ReceiveAsync(connection);
            Assert.Equal(WebSocketMessageType.Close, close.Type);
            Assert.Equal(1000, close.CloseStatus);

            ServerFrame? pong = await context.ReadFrameAsync();
            Assert.Equal(WebSocketFrames.OpPong, pong!.Opcode);
            Assert.Equal("p", pong.Text);
            ServerFrame? reply = await context.ReadFrameAsync();
            Assert.Equal(WebSocketFrames.OpClose, reply!.Opcode);
            Assert.Equal(1000, reply.CloseCode);
            await connection.Completion.WaitAsync(TestTimeouts.Default);
        }
    }

    [Fact]
    public async Task Frames_written_one_byte_at_a_time_give_the_same_message()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        byte[] payload = new byte[300];
        new Random(3).NextBytes(payload);
        byte[] frame = ClientFrames.Binary(payload);
        Task<WebSocketMessage> receiving = ReceiveAsync(connection);
        foreach (byte b in frame)
        {
            await context.SendAsync([b]);
        }

        WebSocketMessage message = await receiving;
        Assert.Equal(payload, message.Payload.ToArray());
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Many_frames_in_one_write_are_returned_one_message_per_call()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.SendAsync(ClientFrames.Concat(ClientFrames.Binary([1]), ClientFrames.Binary([2]), ClientFrames.Binary([3])));
        for (byte i = 1; i <= 3; i++)
        {
            WebSocketMessage message = await ReceiveAsync(connection);
            Assert.Equal(new[] { i }, message.Payload.ToArray());
        }

        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Fragments_are_reassembled_with_pings_between_them()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.SendAsync(ClientFrames.Concat(
            ClientFrames.Binary([1, 2], fin: false),
            ClientFrames.Continuation([], fin: false),
            ClientFrames.Build(WebSocketFrames.OpPing, []),
            ClientFrames.Continuation([3], fin: false),
            ClientFrames.Build(WebSocketFrames.OpPong, [9]),
            ClientFrames.Continuation([4, 5], fin: true)));
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(WebSocketMessageType.Binary, message.Type);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, message.Payload.ToArray());
        ServerFrame? pong = await context.ReadFrameAsync();
        Assert.Equal(WebSocketFrames.OpPong, pong!.Opcode);
        Assert.Empty(pong.Payload);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Ping_is_answered_with_a_pong_carrying_the_same_payload()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        byte[] payload = Enumerable.Range(0, 125).Select(i => (byte)i).ToArray();
        await context.SendAsync(ClientFrames.Concat(ClientFrames.Build(WebSocketFrames.OpPing, payload), ClientFrames.Binary([7])));
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(new byte[] { 7 }, message.Payload.ToArray());
        ServerFrame? pong = await context.ReadFrameAsync();
        Assert.Equal(WebSocketFrames.OpPong, pong!.Opcode);
        Assert.Equal(payload, pong.Payload);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Pong_only_updates_the_last_received_timestamp()
    {
        var time = new ManualTimeProvider();
        var (connection, context) = await WebSocketTestConnection.OpenAsync(time: time);
        long before = connection.LastReceivedTimestamp;
        time.Advance(TimeSpan.FromSeconds(30));
        await context.SendAsync(ClientFrames.Build(WebSocketFrames.OpPong, [1, 2]));
        Task<WebSocketMessage> receiving = ReceiveAsync(connection);
        await WaitUntilAsync(() => connection.LastReceivedTimestamp != before);
        Assert.Equal(before + TimeSpan.FromSeconds(30).Ticks, connection.LastReceivedTimestamp);
        Assert.False(receiving.IsCompleted);
        await context.SendAsync(ClientFrames.Binary([1]));
        Assert.Equal(WebSocketMessageType.Binary, (await receiving).Type);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Close_with_a_code_is_echoed_and_returned()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.SendAsync(ClientFrames.Close(4000, "done"));
        await AssertClosedWithAsync(connection, context, 4000);
    }

    [Fact]
    public async Task Empty_close_is_answered_with_an_empty_close_and_reported_as_1005()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.SendAsync(ClientFrames.Build(WebSocketFrames.OpClose, []));
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(WebSocketMessageType.Close, message.Type);
        Assert.Equal(1005, message.CloseStatus);
        ServerFrame? reply = await context.ReadFrameAsync();
        Assert.Equal(WebSocketFrames.OpClose, reply!.Opcode);
        Assert.Empty(reply.Payload);
        await connection.Completion.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Unmasked_frame_closes_with_1002() => await AssertViolationAsync(ClientFrames.Build(WebSocketFrames.OpBinary, [1], masked: false), 1002);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(7)]
    public async Task Reserved_bits_without_extension_close_with_1002(byte rsv) => await AssertViolationAsync(ClientFrames.Build(WebSocketFrames.OpBinary, [1], rsv: rsv), 1002);

    [Theory]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(11)]
    [InlineData(15)]
    public async Task Unknown_opcode_closes_with_1002(byte opcode) => await AssertViolationAsync(ClientFrames.Build(opcode, [1]), 1002);

    [Fact]
    public async Task Control_frame_over_125_bytes_closes_with_1002() => await AssertViolationAsync(ClientFrames.Build(WebSocketFrames.OpPing, new byte[126]), 1002);

    [Fact]
    public async Task Fragmented_control_frame_closes_with_1002() => await AssertViolationAsync(ClientFrames.Build(WebSocketFrames.OpPing, [1], fin: false), 1002);

    [Fact]
    public async Task Continuation_without_start_closes_with_1002() => await AssertViolationAsync(ClientFrames.Continuation([1]), 1002);

    [Fact]
    public async Task New_data_frame_during_a_fragmented_message_closes_with_1002()
        => await AssertViolationAsync(ClientFrames.Concat(ClientFrames.Binary([1], fin: false), ClientFrames.Binary([2])), 1002);

    [Fact]
    public async Task Close_with_one_byte_payload_closes_with_1002() => await AssertViolationAsync(ClientFrames.Build(WebSocketFrames.OpClose, [3]), 1002);

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(2000)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public async Task Close_with_an_invalid_code_closes_with_1002(ushort code) => await AssertViolationAsync(ClientFrames.Close(code), 1002);

    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1011)]
    [InlineData(3000)]
    [InlineData(4999)]
    public async Task Close_with_a_valid_code_is_echoed(ushort code) => await AssertViolationAsync(ClientFrames.Close(code), code);

    [Fact]
    public async Task Close_with_an_invalid_UTF8_reason_closes_with_1007()
        => await AssertViolationAsync(ClientFrames.Build(WebSocketFrames.OpClose, [0x03, 0xE8, 0xCE, 0xBA, 0xED, 0xA0, 0x80]), 1007);

    [Fact]
    public async Task Invalid_UTF8_text_closes_with_1007() => await AssertViolationAsync(ClientFrames.Build(WebSocketFrames.OpText, [0x61, 0xC0, 0xAF]), 1007);

    [Fact]
    public async Task Text_truncated_at_the_end_of_the_message_closes_with_1007()
        => await AssertViolationAsync(ClientFrames.Concat(ClientFrames.Build(WebSocketFrames.OpText, [0x61, 0xE2], fin: false), ClientFrames.Continuation([0x82])), 1007);

    [Fact]
    public async Task Text_split_inside_a_character_across_fragments_is_valid()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        byte[] euro = Encoding.UTF8.GetBytes("€");
        await context.SendAsync(ClientFrames.Concat(
            ClientFrames.Build(WebSocketFrames.OpText, euro[..1], fin: false),
            ClientFrames.Continuation(euro[1..2], fin: false),
            ClientFrames.Continuation(euro[2..], fin: true)));
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(WebSocketMessageType.Text, message.Type);
        Assert.Equal("€", Encoding.UTF8.GetString(message.Payload.Span));
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Invalid_UTF8_fails_fast_before_the_message_ends()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        // First fragment carries an impossible sequence; the message is never finished.
        await context.SendAsync(ClientFrames.Build(WebSocketFrames.OpText, [0x61, 0xF4, 0x90], fin: false));
        await AssertClosedWithAsync(connection, context, 1007);
    }

    [Fact]
    public async Task Message_over_the_size_cap_closes_with_1009_before_the_payload_arrives()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync(new WebSocketOptions { MaxMessageBytes = 1000 });
        byte[] frame = ClientFrames.Binary(new byte[1001]);
        await context.SendAsync(frame[..20]);
        await AssertClosedWithAsync(connection, context, 1009);
    }

    [Fact]
    public async Task Fragments_adding_up_over_the_size_cap_close_with_1009()
        => await AssertViolationAsync(
            ClientFrames.Concat(ClientFrames.Binary(new byte[600], fin: false), ClientFrames.Continuation(new byte[401])),
            1009,
            new WebSocketOptions { MaxMessageBytes = 1000 });

    [Fact]
    public async Task Message_exactly_at_the_size_cap_is_accepted()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync(new WebSocketOptions { MaxMessageBytes = 1000 });
        await context.SendAsync(ClientFrames.Concat(ClientFrames.Binary(new byte[600], fin: false), ClientFrames.Continuation(new byte[400])));
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(1000, message.Payload.Length);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Too_many_fragments_close_with_1009()
    {
        var options = new WebSocketOptions { MaxFragments = 4 };
        byte[][] frames = [ClientFrames.Binary([1], fin: false), .. Enumerable.Range(0, 3).Select(_ => ClientFrames.Continuation([1], fin: false)), ClientFrames.Continuation([1])];
        await AssertViolationAsync(ClientFrames.Concat(frames), 1009, options);
    }

    [Fact]
    public async Task Sixty_four_bit_length_with_the_high_bit_set_closes_with_1002()
        => await AssertViolationAsync([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], 1002);

    [Fact]
    public async Task Peer_going_away_without_close_returns_1006_and_completes()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.SendAsync(ClientFrames.Binary(new byte[10])[..5]);
        await context.ClientOutput.CompleteAsync();
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(WebSocketMessageType.Close, message.Type);
        Assert.Equal(1006, message.CloseStatus);
        await connection.Completion.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Payload_buffer_is_reused_and_valid_until_the_next_receive()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.SendAsync(ClientFrames.Concat(ClientFrames.Binary([1, 1, 1]), ClientFrames.Binary([2, 2])));
        WebSocketMessage first = await ReceiveAsync(connection);
        Assert.Equal(new byte[] { 1, 1, 1 }, first.Payload.ToArray());
        WebSocketMessage second = await ReceiveAsync(connection);
        Assert.Equal(new byte[] { 2, 2 }, second.Payload.ToArray());
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Large_frame_streams_through_a_transport_that_buffers_less_than_the_frame()
    {
        // The transport holds at most 4 KiB unread: the payload must be consumed as it arrives, not buffered whole.
        var (connection, context) = await WebSocketTestConnection.OpenAsync(serverReadPause: 4096);
        byte[] payload = new byte[64 * 1024];
        new Random(9).NextBytes(payload);
        Task<WebSocketMessage> receiving = ReceiveAsync(connection);
        await context.SendAsync(ClientFrames.Binary(payload)).WaitAsync(TestTimeouts.Default);
        WebSocketMessage message = await receiving;
        Assert.Equal(payload, message.Payload.ToArray());
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Cancelled_receive_leaves_the_connection_usable()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        using (var cts = new CancellationTokenSource())
        {
            ValueTask<WebSocketMessage> pending = connection.ReceiveAsync(cts.Token);
            await context.SendAsync(ClientFrames.Binary([1, 2], fin: false));
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        }

        await context.SendAsync(ClientFrames.Continuation([3]));
        WebSocketMessage message = await ReceiveAsync(connection);
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Payload.ToArray());
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Message_with_exactly_the_maximum_fragments_is_accepted()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync(new WebSocketOptions { MaxFragments = 4 });
        byte[][] frames = [ClientFrames.Binary([1], fin: false), .. Enumerable.Range(0, 2).Select(_ => ClientFrames.Continuation([1], fin: false)), ClientFrames.Continuation([1])];
        await context.SendAsync(ClientFrames.Concat(frames));
        Assert.Equal(4, (await ReceiveAsync(connection)).Payload.Length);
        await connection.DisposeAsync();
    }

    [Theory]
    [InlineData(new byte[] { 0x7b, 0x7d })]
    [InlineData(new byte[] { 0xc3, 0x28, 0xed, 0xa0, 0x80 })]
    public async Task With_text_rejected_a_text_message_closes_with_1003_at_its_first_frame(byte[] payload)
    {
        // Refused at the header: the payload's UTF-8 is never validated, and the rest of the message need not arrive.
        var options = new WebSocketOptions { RejectText = true };
        await AssertViolationAsync(ClientFrames.Build(0x1, payload, fin: false), 1003, options);
    }

    [Fact]
    public async Task A_peer_that_pings_without_reading_is_not_read_past_the_outbound_limit_and_gets_every_pong_once_it_reads()
    {
        // The client reads nothing until the end: pongs queue up to the limit, then the server stops reading pings
        // (they wait in the transport) instead of queuing pongs without bound.
        const int limit = 4096;
        const int pings = 400;
        var (connection, context) = await WebSocketTestConnection.OpenAsync(new WebSocketOptions { OutboundLimitBytes = limit }, clientReadPause: 1024, serverReadPause: 2048);
        Task<WebSocketMessage> receiving = connection.ReceiveAsync(CancellationToken.None).AsTask();
        byte[] ping = ClientFrames.Build(0x9, new byte[100]);
        Task sending = Task.Run(async () =>
        {
            for (int i = 0; i < pings; i++)
            {
                await context.SendAsync(ping);
            }
        });
        long maxQueued = 0;
        DateTime settle = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < settle && !sending.IsCompleted)
        {
            maxQueued = Math.Max(maxQueued, connection.QueuedBytes);
            if (maxQueued > limit && settle - DateTime.UtcNow > TimeSpan.FromMilliseconds(300))
            {
                settle = DateTime.UtcNow + TimeSpan.FromMilliseconds(300);
            }

            await Task.Delay(1);
        }

        Assert.False(sending.IsCompleted, "the server read every ping although its pongs were not taken");
        Assert.InRange(maxQueued, limit / 2, limit + 2048 + 1024);

        int pongs = 0;
        while (pongs < pings)
        {
            ServerFrame? frame = await context.ReadFrameAsync().WaitAsync(TestTimeouts.Default);
            Assert.NotNull(frame);
            Assert.Equal(0xA, frame.Opcode);
            pongs++;
        }

        await sending.WaitAsync(TestTimeouts.Default);
        Assert.False(receiving.IsCompleted);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task A_receive_waiting_for_outbound_room_still_honours_its_cancellation()
    {
        // A Hello deadline must fire also for a peer whose unread replies hold the input back.
        var (connection, context) = await WebSocketTestConnection.OpenAsync(new WebSocketOptions { OutboundLimitBytes = 4096 }, clientReadPause: 1024);
        // 40 KB: the writer hands 16 KB to the paused transport and the rest stays queued.
        for (int i = 0; i < 40; i++)
        {
            connection.TrySend(WebSocketFrames.Frame(WebSocketFrames.OpBinary, new byte[1000]), droppable: false);
        }

        await WaitUntilAsync(() => connection.QueuedBytes > 4096);
        await context.SendAsync(ClientFrames.Binary([1]));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await connection.ReceiveAsync(cts.Token));
        Assert.True(connection.QueuedBytes > 4096);

        // Once the peer reads, the input is read again.
        Task<WebSocketMessage> next = connection.ReceiveAsync(CancellationToken.None).AsTask();
        for (int i = 0; i < 40; i++)
        {
            Assert.NotNull(await context.ReadFrameAsync().WaitAsync(TestTimeouts.Default));
        }

        Assert.Equal(new byte[] { 1 }, (await next.WaitAsync(TestTimeouts.Default)).Payload.ToArray());
        await connection.DisposeAsync();
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(5);
        }
    }
}
