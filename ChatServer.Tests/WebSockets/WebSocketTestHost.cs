using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using ChatServer.Gateway.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace ChatServer.Tests.WebSockets;

/// <summary>A ConnectionContext over two in-memory pipes: the test plays the client on the other ends.</summary>
internal sealed class TestConnectionContext : ConnectionContext
{
    private readonly Pipe _toServer;
    private readonly Pipe _toClient;

    public TestConnectionContext(long clientReadPause = 0, long serverReadPause = 0)
    {
        _toServer = new Pipe(new PipeOptions(
            pauseWriterThreshold: serverReadPause,
            resumeWriterThreshold: serverReadPause == 0 ? 0 : serverReadPause / 2,
            useSynchronizationContext: false));
        _toClient = new Pipe(new PipeOptions(
            pauseWriterThreshold: clientReadPause,
            resumeWriterThreshold: clientReadPause == 0 ? 0 : clientReadPause / 2,
            useSynchronizationContext: false));
        Transport = new DuplexPipe(_toServer.Reader, _toClient.Writer);
    }

    public override string ConnectionId { get; set; } = "test";

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public int AbortCount { get; private set; }

    /// <summary>What the client writes.</summary>
    public PipeWriter ClientOutput => _toServer.Writer;

    /// <summary>What the client reads.</summary>
    public PipeReader ClientInput => _toClient.Reader;

    public override void Abort(ConnectionAbortedException abortReason) => AbortCount++;

    public async Task SendAsync(byte[] bytes)
    {
        await ClientOutput.WriteAsync(bytes);
    }

    public Task SendAsync(string ascii) => SendAsync(Encoding.ASCII.GetBytes(ascii));

    /// <summary>Reads the HTTP response head (up to the blank line) as text.</summary>
    public async Task<string> ReadResponseHeadAsync()
    {
        while (true)
        {
            ReadResult result = await ClientInput.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);
            ReadOnlySequence<byte> buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
            {
                string text = Encoding.ASCII.GetString(head.ToArray());
                ClientInput.AdvanceTo(reader.Position);
                return text;
            }

            if (result.IsCompleted)
            {
                ClientInput.AdvanceTo(buffer.End);
                return Encoding.ASCII.GetString(buffer.ToArray());
            }

            ClientInput.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Reads one server frame; null when the server closed the transport.</summary>
    public async Task<ServerFrame?> ReadFrameAsync()
    {
        while (true)
        {
            ReadResult result = await ClientInput.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (ServerFrame.TryParse(ref buffer, out ServerFrame? frame))
            {
                ClientInput.AdvanceTo(buffer.Start);
                return frame;
            }

            if (result.IsCompleted)
            {
                ClientInput.AdvanceTo(buffer.End);
                Assert.True(buffer.IsEmpty, "transport ended inside a frame");
                return null;
            }

            ClientInput.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>True when the server completed its output (after any frames still unread are skipped).</summary>
    public async Task<bool> ServerOutputEndedAsync()
    {
        while (await ReadFrameAsync() is not null)
        {
        }

        return true;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);
}

/// <summary>A frame as the client sees it.</summary>
internal sealed record ServerFrame(byte Opcode, bool Fin, bool Masked, byte[] Payload)
{
    public ushort CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : (ushort)0;

    public string Text => Encoding.UTF8.GetString(Payload);

    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out ServerFrame? frame)
    {
        frame = null;
        if (buffer.Length < 2)
        {
            return false;
        }

        byte[] head = buffer.Slice(0, Math.Min(buffer.Length, 10)).ToArray();
        int length7 = head[1] & 0x7F;
        int headerLength = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
        if (head.Length < headerLength)
        {
            return false;
        }

        long length = length7 == 126 ? BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(2)) : length7 == 127 ? (long)BinaryPrimitives.ReadUInt64BigEndian(head.AsSpan(2)) : length7;
        if (buffer.Length < headerLength + length)
        {
            return false;
        }

        byte[] payload = buffer.Slice(headerLength, length).ToArray();
        frame = new ServerFrame((byte)(head[0] & 0x0F), (head[0] & 0x80) != 0, (head[1] & 0x80) != 0, payload);
        buffer = buffer.Slice(headerLength + length);
        return true;
    }
}

/// <summary>Builds client frames (masked unless told otherwise).</summary>
internal static class ClientFrames
{
    public static readonly byte[] MaskKey = [0x37, 0xFA, 0x21, 0x3D];

    public static byte[] Build(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, byte rsv = 0, bool masked = true, int forceLengthBytes = 0)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        int lengthBytes = forceLengthBytes != 0 ? forceLengthBytes : payload.Length < 126 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8;
        if (lengthBytes == 0)
        {
            frame.Add((byte)(maskBit | payload.Length));
        }
        else if (lengthBytes == 2)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int shift = 56; shift >= 0; shift -= 8)
            {
                frame.Add((byte)((long)payload.Length >> shift));
            }
        }

        if (masked)
        {
            frame.AddRange(MaskKey);
        }

        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add(masked ? (byte)(payload[i] ^ MaskKey[i % 4]) : payload[i]);
        }

        return frame.ToArray();
    }

    public static byte[] Text(string text, bool fin = true) => Build(0x1, Encoding.UTF8.GetBytes(text), fin);

    public static byte[] Binary(ReadOnlySpan<byte> payload, bool fin = true) => Build(0x2, payload, fin);

    public static byte[] Continuation(ReadOnlySpan<byte> payload, bool fin = true) => Build(0x0, payload, fin);

    public static byte[] Close(ushort code, string reason = "")
    {
        byte[] reasonBytes = Encoding.UTF8.GetBytes(reason);
        byte[] payload = new byte[2 + reasonBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        reasonBytes.CopyTo(payload, 2);
        return Build(0x8, payload);
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}

/// <summary>A TimeProvider whose clock only moves when the test says so.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _ticks;
        }
    }

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due = [];
        lock (_lock)
        {
            _ticks += by.Ticks;
            foreach (ManualTimer timer in _timers)
            {
                if (timer.DueTicks <= _ticks)
                {
                    due.Add(timer);
                }
            }

            foreach (ManualTimer timer in due)
            {
                _timers.Remove(timer);
            }
        }

        foreach (ManualTimer timer in due)
        {
            timer.Fire();
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long DueTicks { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    DueTicks = owner._ticks + dueTime.Ticks;
                    owner._timers.Add(this);
                }
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}

/// <summary>Opens a connection through a real handshake.</summary>
internal static class WebSocketTestConnection
{
    public const string UpgradeRequest =
        "GET /v1/ws HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n";

    public static async Task<(WebSocketConnection Connection, TestConnectionContext Context)> OpenAsync(
        WebSocketOptions? options = null, TimeProvider? time = null, long clientReadPause = 0, long serverReadPause = 0)
    {
        var context = new TestConnectionContext(clientReadPause, serverReadPause);
        await context.SendAsync(UpgradeRequest);
        // Read the response concurrently: with a small client-side pipe the 101 itself can push back.
        Task<string> response = context.ReadResponseHeadAsync();
        WebSocketConnection? connection = await WebSocketConnection.AcceptAsync(context, options ?? new WebSocketOptions(), time ?? TimeProvider.System, CancellationToken.None);
        Assert.NotNull(connection);
        string head = await response;
        Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
        return (connection, context);
    }
}
