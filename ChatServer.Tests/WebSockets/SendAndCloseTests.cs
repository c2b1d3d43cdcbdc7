using System.Text;
using ChatServer.Gateway.WebSockets;

namespace ChatServer.Tests.WebSockets;

public sealed class SendAndCloseTests
{
    [Fact]
    public async Task Queued_frames_arrive_in_order_and_unchanged()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        byte[] shared = WebSocketFrames.BinaryFrame([1, 2, 3]);
        byte[] copy = (byte[])shared.Clone();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(connection.TrySend(i % 2 == 0 ? shared : WebSocketFrames.BinaryFrame([(byte)i]), droppable: true));
        }

        for (int i = 0; i < 100; i++)
        {
            ServerFrame? frame = await context.ReadFrameAsync();
            Assert.Equal(i % 2 == 0 ? new byte[] { 1, 2, 3 } : new[] { (byte)i }, frame!.Payload);
        }

        Assert.Equal(copy, shared);
        await ReceiveTests.WaitUntilAsync(() => connection.QueuedBytes == 0);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Frames_sent_from_many_threads_all_arrive()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        const int PerThread = 500;
        Task[] senders = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                Assert.True(connection.TrySend(WebSocketFrames.BinaryFrame([(byte)t, (byte)(i >> 8), (byte)i]), droppable: false));
            }
        })).ToArray();
        int[] next = new int[4];
        for (int n = 0; n < 4 * PerThread; n++)
        {
            ServerFrame? frame = await context.ReadFrameAsync();
            int thread = frame!.Payload[0];
            Assert.Equal(next[thread]++, (frame.Payload[1] << 8) | frame.Payload[2]);
        }

        await Task.WhenAll(senders);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Droppable_frames_are_refused_over_the_limit_and_Drained_fires_when_the_queue_empties()
    {
        var time = new ManualTimeProvider();
        // The client reads nothing, so the transport pushes back after 64 bytes and the queue fills.
        var (connection, context) = await WebSocketTestConnection.OpenAsync(new WebSocketOptions { OutboundLimitBytes = 1000 }, time, clientReadPause: 64);
        int drained = 0;
        connection.Drained += () => Interlocked.Increment(ref drained);
        byte[] frame = WebSocketFrames.BinaryFrame(new byte[98]);
        int accepted = 0;
        while (connection.TrySend(frame, droppable: true))
        {
            accepted++;
            Assert.True(accepted < 1000, "droppable sends were never refused");
            if (connection.QueuedBytes == 0)
            {
                await Task.Yield();
            }
        }

        // The loop ended on a refusal, which happens only over the limit. (Asserting the queue size or a second
        // refusal here would race the writer, which may take queued frames into the transport meanwhile.)
        Assert.True(accepted * frame.Length > 1000, $"refused after only {accepted} frames");
        Assert.True(connection.TrySend(WebSocketFrames.BinaryFrame([42]), droppable: false));
        Assert.Equal(0, Volatile.Read(ref drained));

        for (int i = 0; i < accepted; i++)
        {
            Assert.Equal(98, (await context.ReadFrameAsync())!.Payload.Length);
        }

        Assert.Equal(new byte[] { 42 }, (await context.ReadFrameAsync())!.Payload);
        await ReceiveTests.WaitUntilAsync(() => Volatile.Read(ref drained) == 1);
        Assert.Equal(0, connection.QueuedBytes);
        Assert.True(connection.TrySend(frame, droppable: true));
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Last_drain_timestamp_moves_when_the_writer_flushes()
    {
        var time = new ManualTimeProvider();
        var (connection, context) = await WebSocketTestConnection.OpenAsync(time: time);
        long before = connection.LastDrainTimestamp;
        time.Advance(TimeSpan.FromSeconds(3));
        connection.SendPing();
        ServerFrame? ping = await context.ReadFrameAsync();
        Assert.Equal(WebSocketFrames.OpPing, ping!.Opcode);
        Assert.Empty(ping.Payload);
        await ReceiveTests.WaitUntilAsync(() => connection.LastDrainTimestamp == before + TimeSpan.FromSeconds(3).Ticks);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Close_waits_for_the_peer_reply_read_by_a_concurrent_receive()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        Task<WebSocketMessage> receiving = connection.ReceiveAsync(CancellationToken.None).AsTask();
        Assert.True(connection.TrySend(WebSocketFrames.BinaryFrame([5]), droppable: false));
        Task closing = connection.CloseAsync(4002, "heartbeat timeout");
        Assert.False(connection.TrySend(WebSocketFrames.BinaryFrame([6]), droppable: false));

        Assert.Equal(new byte[] { 5 }, (await context.ReadFrameAsync())!.Payload);
        ServerFrame? close = await context.ReadFrameAsync();
        Assert.Equal(WebSocketFrames.OpClose, close!.Opcode);
        Assert.Equal(4002, close.CloseCode);
        Assert.Equal("heartbeat timeout", Encoding.UTF8.GetString(close.Payload.AsSpan(2)));
        Assert.False(closing.IsCompleted);

        await context.SendAsync(ClientFrames.Close(4002));
        WebSocketMessage message = await receiving.WaitAsync(TestTimeouts.Default);
        Assert.Equal(WebSocketMessageType.Close, message.Type);
        Assert.Equal(4002, message.CloseStatus);
        await closing.WaitAsync(TestTimeouts.Default);
        Assert.True(connection.Completion.IsCompleted);
        Assert.Null(await context.ReadFrameAsync());
        Assert.Equal(0, context.AbortCount);
    }

    [Fact]
    public async Task Close_without_a_running_receive_reads_the_peer_reply_itself()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        Task closing = connection.CloseAsync(1001);
        Assert.Equal(1001, (await context.ReadFrameAsync())!.CloseCode);
        await context.SendAsync(ClientFrames.Concat(ClientFrames.Binary([1]), ClientFrames.Close(1001)));
        await closing.WaitAsync(TestTimeouts.Default);
        Assert.Null(await context.ReadFrameAsync());
        WebSocketMessage after = await connection.ReceiveAsync(CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, after.Type);
        Assert.Equal(1001, after.CloseStatus);
        Assert.Equal(0, context.AbortCount);
    }

    [Fact]
    public async Task Close_stops_waiting_for_the_peer_after_the_timeout_and_ends_the_transport_without_a_reset()
    {
        // Our close frame was written: the transport ends with a FIN, not an abort (a reset could discard the close
        // frame before the peer reads it).
        var time = new ManualTimeProvider();
        var (connection, context) = await WebSocketTestConnection.OpenAsync(time: time);
        Task closing = connection.CloseAsync(1000);
        Assert.Equal(1000, (await context.ReadFrameAsync())!.CloseCode);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(closing.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await closing.WaitAsync(TestTimeouts.Default);
        Assert.Null(await context.ReadFrameAsync());
        Assert.Equal(0, context.AbortCount);
    }

    [Fact]
    public async Task Close_is_idempotent()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        Task first = connection.CloseAsync(1000);
        Task second = connection.CloseAsync(1001);
        Assert.Equal(1000, (await context.ReadFrameAsync())!.CloseCode);
        await context.SendAsync(ClientFrames.Close(1000));
        await Task.WhenAll(first, second).WaitAsync(TestTimeouts.Default);
        Assert.Null(await context.ReadFrameAsync());
    }

    [Fact]
    public async Task Close_after_the_peer_closed_completes_at_once()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.SendAsync(ClientFrames.Close(1000));
        Assert.Equal(WebSocketMessageType.Close, (await connection.ReceiveAsync(CancellationToken.None)).Type);
        await connection.CloseAsync(1001).WaitAsync(TestTimeouts.Default);
        Assert.Equal(1000, (await context.ReadFrameAsync())!.CloseCode);
        Assert.Null(await context.ReadFrameAsync());
    }

    [Fact]
    public async Task Abort_closes_the_transport_and_wakes_the_reader()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        Task<WebSocketMessage> receiving = connection.ReceiveAsync(CancellationToken.None).AsTask();
        connection.Abort();
        WebSocketMessage message = await receiving.WaitAsync(TestTimeouts.Default);
        Assert.Equal(WebSocketMessageType.Close, message.Type);
        Assert.Equal(1006, message.CloseStatus);
        await connection.Completion.WaitAsync(TestTimeouts.Default);
        Assert.False(connection.TrySend(WebSocketFrames.BinaryFrame([1]), droppable: false));
        Assert.Null(await context.ReadFrameAsync());
        Assert.Equal(1, context.AbortCount);
    }

    [Fact]
    public async Task Abort_cuts_a_writer_stuck_on_a_peer_that_does_not_read()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync(clientReadPause: 64);
        for (int i = 0; i < 10; i++)
        {
            connection.TrySend(WebSocketFrames.BinaryFrame(new byte[100]), droppable: false);
        }

        await ReceiveTests.WaitUntilAsync(() => connection.QueuedBytes < 1000);
        connection.Abort();
        await connection.Completion.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Peer_disappearing_while_the_writer_flushes_ends_the_connection()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await context.ClientInput.CompleteAsync();
        connection.TrySend(WebSocketFrames.BinaryFrame([1]), droppable: false);
        await connection.Completion.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task Echo_mode_returns_messages_with_their_type_and_closes_by_the_RFC()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        Task echo = connection.RunEchoAsync(CancellationToken.None);
        await context.SendAsync(ClientFrames.Concat(
            ClientFrames.Text("héllo", fin: false),
            ClientFrames.Continuation(" world"u8),
            ClientFrames.Binary(new byte[70_000 / 2]),
            ClientFrames.Build(WebSocketFrames.OpPing, "x"u8),
            ClientFrames.Close(1000)));
        ServerFrame? text = await context.ReadFrameAsync();
        Assert.Equal(WebSocketFrames.OpText, text!.Opcode);
        Assert.Equal("héllo world", text.Text);
        ServerFrame? binary = await context.ReadFrameAsync();
        Assert.Equal(WebSocketFrames.OpBinary, binary!.Opcode);
        Assert.Equal(35_000, binary.Payload.Length);
        Assert.Equal(WebSocketFrames.OpPong, (await context.ReadFrameAsync())!.Opcode);
        Assert.Equal(1000, (await context.ReadFrameAsync())!.CloseCode);
        await echo.WaitAsync(TestTimeouts.Default);
        Assert.Null(await context.ReadFrameAsync());
    }

    [Fact]
    public async Task Dispose_without_close_aborts()
    {
        var (connection, context) = await WebSocketTestConnection.OpenAsync();
        await connection.DisposeAsync();
        Assert.True(connection.Completion.IsCompleted);
        Assert.Equal(1, context.AbortCount);
        Assert.Equal(WebSocketMessageType.Close, (await connection.ReceiveAsync(CancellationToken.None)).Type);
    }
}
