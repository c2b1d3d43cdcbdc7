using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using ChatServer.Client;
using ChatServer.Gateway;
using ChatServer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class SlowConsumerTests
{
    private const int Limit = 65536;
    private static readonly string Body = new('s', 8000);

    [Fact]
    public async Task A_client_that_stops_reading_gets_what_was_queued_then_one_gap_per_group_while_others_get_everything()
    {
        await using var server = await TestServer.StartAsync(new() { ["Gateway:OutboundLimitBytes"] = Limit.ToString() });
        var a = await GroupAsync(server, 2);
        var b = await GroupAsync(server, 0);
        var slowUser = a.Members[0];
        await b.Owner.Http.AddMemberAsync(b.Id, slowUser.Id);
        await using var fast = await a.Members[1].ConnectAsync();
        await using var slow = await PausableChatSocket.ConnectAsync(server, slowUser.Token);
        var session = FindSession(server, slow.Hello.SessionId);
        Assert.IsType<SyncedPush>(await slow.Socket.Pushes.ReadAsync());
        var firstA = a.Group.LastSeq + 1;
        var firstB = (await b.Owner.Http.GetGroupAsync(b.Id)).LastSeq + 1;

        slow.Pause();
        await using var senderA = await a.Owner.ConnectAsync();
        await using var senderB = await b.Owner.ConnectAsync();
        var maxQueued = 0L;
        long lastA = 0, lastB = 0;
        for (var round = 0; round < 400 && !session.IsOverflowing; round++)
        {
            lastA = (await senderA.SendAsync(a.Id, "a" + round, Body)).Seq;
            maxQueued = Math.Max(maxQueued, session.Connection.QueuedBytes);
        }

        Assert.True(session.IsOverflowing, "the paused session never passed its outbound limit");
        for (var i = 0; i < 20; i++)
        {
            lastA = (await senderA.SendAsync(a.Id, "more-a" + i, Body)).Seq;
            lastB = (await senderB.SendAsync(b.Id, "more-b" + i, Body)).Seq;
            maxQueued = Math.Max(maxQueued, session.Connection.QueuedBytes);
        }

        Assert.InRange(maxQueued, 1, Limit + Body.Length + 200);
        var fastEvents = EventsOf(await PushesUntilEventAsync(fast, a.Id, lastA), a.Id);
        Assert.Equal(Enumerable.Range((int)firstA, (int)(lastA - firstA + 1)).Select(i => (long)i), fastEvents.Select(e => e.Seq));

        slow.Resume();
        var gapsSeen = 0;
        var pushes = await PushesUntilAsync(slow.Socket, p => p is GapPush && ++gapsSeen == 2, TimeSpan.FromSeconds(20));
        var firstGap = pushes.FindIndex(p => p is GapPush);
        Assert.All(pushes[firstGap..], p => Assert.IsType<GapPush>(p));
        Assert.Equal(2, pushes.Count - firstGap);

        foreach (var (groupId, first, last) in new[] { (a.Id, firstA, lastA), (b.Id, firstB, lastB) })
        {
            var received = EventsOf(pushes, groupId).Select(e => e.Seq).ToList();
            var gap = pushes.OfType<GapPush>().Single(g => g.GroupId == groupId);
            var expectedFrom = received.Count == 0 ? first : received[^1] + 1;
            if (received.Count > 0) Assert.Equal(Enumerable.Range((int)first, received.Count).Select(i => (long)i), received);
            Assert.Equal((expectedFrom, last), (gap.FromSeq, gap.ToSeq));

            var filled = await slowUser.Http.HistoryAsync(groupId, gap.ToSeq + 1, (int)(gap.ToSeq - gap.FromSeq + 1));
            Assert.Equal(Enumerable.Range((int)gap.FromSeq, (int)(gap.ToSeq - gap.FromSeq + 1)).Select(i => (long)i), filled.Events.Select(e => e.Seq));
        }

        Assert.True(pushes.OfType<GapPush>().Single(g => g.GroupId == a.Id).FromSeq > firstA, "some frames were queued before the limit");
        await EventuallyAsync(() => !session.IsOverflowing, "the session has drained");
        var after = await senderA.SendAsync(a.Id, "after-drain", "live again");
        Assert.Equal(after.Seq, (await Pushes.NextEventAsync(slow.Socket, a.Id)).Seq);
    }

    [Fact]
    public async Task A_client_that_drains_nothing_past_the_timeout_gets_goodbye_slow_consumer_and_close_4009()
    {
        await using var server = await TestServer.StartAsync(new()
        {
            ["Gateway:OutboundLimitBytes"] = Limit.ToString(),
            ["Gateway:SlowConsumerTimeoutMs"] = "300",
        });
        var room = await GroupAsync(server, 1);
        await using var slow = await PausableChatSocket.ConnectAsync(server, room.Members[0].Token);
        var session = FindSession(server, slow.Hello.SessionId);
        await using var sender = await room.Owner.ConnectAsync();

        slow.Pause();
        for (var round = 0; round < 400 && !session.IsOverflowing; round++)
        {
            await sender.SendAsync(room.Id, "m" + round, Body);
        }

        Assert.True(session.IsOverflowing, "the paused session never passed its outbound limit");
        await EventuallyAsync(() => session.IsClosing, "the server gives up on the slow consumer");
        slow.Resume();

        var goodbye = await Pushes.NextAsync<GoodbyePush>(slow.Socket, timeout: TimeSpan.FromSeconds(20));
        Assert.Equal(new GoodbyePush("slow_consumer", null), goodbye);
        Assert.Equal(ChatCloseCodes.SlowConsumer, await slow.Socket.Closed.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_client_that_drains_slowly_while_over_the_limit_is_not_closed_and_gets_gaps_instead()
    {
        const int limit = 256 * 1024;
        await using var server = await TestServer.StartAsync(new()
        {
            ["Gateway:OutboundLimitBytes"] = limit.ToString(),
            ["Gateway:SlowConsumerTimeoutMs"] = "2500",
        });
        var room = await GroupAsync(server, 1);
        var reader = room.Members[0];
        await using var slow = await PausableChatSocket.ConnectAsync(server, reader.Token);
        var session = FindSession(server, slow.Hello.SessionId);
        await using var sender = await room.Owner.ConnectAsync();

        // About 100 KB/s: far below the send rate, but it keeps reading; it takes longer than the timeout to read
        // the limit's worth, so the server must count progress within a batch, not only whole batches written.
        slow.Throttle(TimeSpan.FromMilliseconds(20));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var overflowSince = TimeSpan.Zero;
        for (var round = 0; overflowSince == TimeSpan.Zero || watch.Elapsed - overflowSince < TimeSpan.FromSeconds(5); round++)
        {
            var batch = new List<Task<SendResult>>();
            for (var i = 0; i < 4; i++) batch.Add(sender.SendAsync(room.Id, $"m{round}-{i}", Body));
            await Task.WhenAll(batch);

            // ~3 MB/s, still 30 times what the client reads, without a send loop that starves the reader's thread.
            await Task.Delay(10);
            if (overflowSince == TimeSpan.Zero && session.IsOverflowing) overflowSince = watch.Elapsed;
            Assert.False(session.IsClosing, $"a client that drains slowly was closed {watch.Elapsed - overflowSince} after it first passed the limit");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the throttled session never passed its limit");
        }

        slow.Throttle(null);
        await EventuallyAsync(() => !session.IsOverflowing, "the session has drained", TimeSpan.FromSeconds(20));
        var marker = await sender.SendAsync(room.Id, "marker", "after the flood");
        var pushes = await PushesUntilEventAsync(slow.Socket, room.Id, marker.Seq, TimeSpan.FromSeconds(20));
        Assert.False(session.IsClosing);
        Assert.DoesNotContain(pushes, p => p is GoodbyePush);
        Assert.Contains(pushes, p => p is GapPush);
        var covered = new List<long>();
        foreach (var p in pushes)
        {
            if (p is EventPush e && e.Event.GroupId == room.Id) covered.Add(e.Event.Seq);
            if (p is GapPush g) covered.AddRange(Enumerable.Range((int)g.FromSeq, (int)(g.ToSeq - g.FromSeq + 1)).Select(i => (long)i));
        }

        Assert.Equal(Enumerable.Range((int)room.Group.LastSeq + 1, (int)(marker.Seq - room.Group.LastSeq)).Select(i => (long)i), covered);
    }

    private static ChatSession FindSession(TestServer server, Guid sessionId)
        => server.Services.GetRequiredService<SessionRegistry>().All.Single(s => s.SessionId == sessionId);

    /// <summary>
    /// A chat connection over a raw TCP socket with a small receive buffer, whose reads can be paused: while
    /// paused the client library stops reading, the kernel buffers fill, and the server's outbound queue grows.
    /// </summary>
    private sealed class PausableChatSocket : IAsyncDisposable
    {
        private readonly PausableStream _stream;

        private PausableChatSocket(PausableStream stream, ChatSocket socket, HelloResult hello)
        {
            _stream = stream;
            Socket = socket;
            Hello = hello;
        }

        public ChatSocket Socket { get; }

        public HelloResult Hello { get; }

        public static async Task<PausableChatSocket> ConnectAsync(TestServer server, string token)
        {
            var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, NoDelay = true };
            await tcp.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.GatewayUri.Port));
            var network = new NetworkStream(tcp, ownsSocket: true);
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{server.GatewayUri.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n";
            await network.WriteAsync(Encoding.ASCII.GetBytes(request));
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await network.ReadAsync(one) == 0) throw new IOException("the server closed during the handshake");
                head.Append((char)one[0]);
            }

            Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
            var stream = new PausableStream(network);
            var webSocket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = false,
                SubProtocol = "chat.v1",
                KeepAliveInterval = TimeSpan.Zero,
            });
            var socket = ChatSocket.Attach(webSocket);
            var hello = await socket.HelloAsync(token);
            return new PausableChatSocket(stream, socket, hello);
        }

        public void Pause() => _stream.Pause();

        public void Resume() => _stream.Resume();

        public void Throttle(TimeSpan? delay) => _stream.Throttle = delay;

        public async ValueTask DisposeAsync()
        {
            _stream.Resume();
            await Socket.DisposeAsync();
            await _stream.DisposeAsync();
        }
    }

    private sealed class PausableStream : Stream
    {
        private readonly NetworkStream _inner;
        private volatile TaskCompletionSource _gate = NewOpenGate();

        public PausableStream(NetworkStream inner) => _inner = inner;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void Pause()
        {
            if (_gate.Task.IsCompleted) _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Resume() => _gate.TrySetResult();

        /// <summary>When set, each read takes at most 2 KiB and waits this long first: a client that drains slowly.</summary>
        public TimeSpan? Throttle { get; set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _gate.Task.WaitAsync(cancellationToken);
            if (Throttle is { } delay)
            {
                await Task.Delay(delay, cancellationToken);
                buffer = buffer[..Math.Min(buffer.Length, 2048)];
            }

            return await _inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            => _inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => _inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }

        private static TaskCompletionSource NewOpenGate()
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gate.SetResult();
            return gate;
        }
    }
}
