using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using ChatServer.Auth;
using ChatServer.Gateway;
using ChatServer.Gateway.WebSockets;
using ChatServer.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace ChatServer.Bench;

/// <summary>RFC 6455 frame parsing (header + unmask) of a client frame, and encoding of an event push.</summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private ReadOnlySequence<byte> _frame;
    private byte[] _payload = [];
    private EventRecord _event = null!;

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[120];
        Random.Shared.NextBytes(payload);
        var frame = new byte[payload.Length + 6];
        frame[0] = 0x82;
        frame[1] = 0x80 | 120;
        frame[2] = 0x11;
        frame[3] = 0x22;
        frame[4] = 0x33;
        frame[5] = 0x44;
        payload.CopyTo(frame, 6);
        _frame = new ReadOnlySequence<byte>(frame);
        _payload = new byte[120];
        _event = SampleEvent();
    }

    internal static EventRecord SampleEvent() => new(
        Guid.CreateVersion7(), 12345, Guid.CreateVersion7(), 1, Guid.CreateVersion7(), 1_780_000_000_000, "client-msg-0001",
        "a message body of typical length, about sixty-four bytes long...", null, null, false, null);

    [Benchmark(Description = "parse header + unmask 120 B")]
    public int ParseAndUnmask()
    {
        var buffer = _frame;
        WebSocketFrameParser.TryReadFrameHeader(ref buffer, out var header);
        buffer.Slice(0, 120).CopyTo(_payload); // TryReadFrameHeader has already advanced past the header
        return WebSocketFrameParser.Unmask(_payload, header.MaskKey, 0);
    }

    [Benchmark(Description = "encode event push (once per event)")]
    public byte[] EncodeEventPush() => WireRecords.EventPush(_event);
}

/// <summary>MessagePack codecs of the server's push frames (each allocates exactly its frame array).</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly Guid _group = Guid.CreateVersion7();
    private readonly Guid _user = Guid.CreateVersion7();
    private readonly EventRecord _event = FrameBenchmarks.SampleEvent();

    [Benchmark]
    public byte[] EventPush() => WireRecords.EventPush(_event);

    [Benchmark]
    public byte[] GapPush() => WireRecords.GapPush(_group, 10, 20);

    [Benchmark]
    public byte[] TypingPush() => WireRecords.TypingPush(_group, _user);

    [Benchmark]
    public byte[] ReadUpToPush() => WireRecords.ReadUpToPush(_group, _user, 42);

    [Benchmark]
    public byte[] SyncedPush() => WireRecords.SyncedPush();

    [Benchmark]
    public byte[] GoodbyePush() => WireRecords.GoodbyePush("server_shutdown", null);
}

/// <summary>The WebSocket upgrade: parse, validate, write 101.</summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private readonly WebSocketOptions _options = new();
    private readonly ArrayBufferWriter<byte> _out = new(512);
    private ReadOnlySequence<byte> _request;

    [GlobalSetup]
    public void Setup() => _request = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(
        "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v1\r\n" +
        "User-Agent: bench\r\n\r\n"));

    [Benchmark]
    public int Upgrade()
    {
        var buffer = _request;
        HandshakeParser.TryParse(ref buffer, _options, out var request);
        int status = HandshakeParser.Validate(request!, _options, out var accepted);
        _out.ResetWrittenCount();
        HandshakeParser.WriteSwitchingProtocols(_out, "dGhlIHNhbXBsZSBub25jZQ==", accepted.OffersSubProtocol ? "chat.v1" : null);
        return status;
    }
}

/// <summary>HS256 access-token validation (every Hello and Reauth).</summary>
[MemoryDiagnoser]
public class TokenBenchmarks
{
    private TokenService _tokens = null!;
    private string _token = "";

    [GlobalSetup]
    public void Setup()
    {
        _tokens = new TokenService(new AuthOptions(), Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), TimeProvider.System);
        _token = _tokens.IssueAccessToken(Guid.CreateVersion7(), Guid.CreateVersion7()).Token;
    }

    [Benchmark]
    public int Validate() => (int)_tokens.Validate(_token, out _);
}

/// <summary>
/// Fan-out of one event frame to N connections through the real outbound queues and writer loops
/// (<see cref="WebSocketConnection.TrySend"/>, one writer task per connection, one flush per batch) over
/// in-memory pipes; each operation waits until every client has read the frame. Allocated bytes / N is the
/// cost per delivered frame.
/// </summary>
[MemoryDiagnoser]
public class FanoutBenchmarks
{
    private WebSocketConnection[] _connections = [];
    private PipeReader[] _clients = [];
    private byte[] _frame = [];

    [Params(1, 100, 1_000, 50_000)]
    public int Sessions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _frame = WireRecords.EventPush(FrameBenchmarks.SampleEvent());
        _connections = new WebSocketConnection[Sessions];
        _clients = new PipeReader[Sessions];
        byte[] upgrade = Encoding.ASCII.GetBytes(
            "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        var options = new WebSocketOptions();
        for (int i = 0; i < Sessions; i++)
        {
            var context = new PipeConnectionContext();
            context.ClientOutput.WriteAsync(upgrade).AsTask().GetAwaiter().GetResult();
            _connections[i] = WebSocketConnection.AcceptAsync(context, options, TimeProvider.System, CancellationToken.None).AsTask().GetAwaiter().GetResult()!;
            _clients[i] = context.ClientInput;
            SkipResponseHead(context.ClientInput);
        }
    }

    private static void SkipResponseHead(PipeReader reader)
    {
        while (true)
        {
            var result = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            var seq = new SequenceReader<byte>(result.Buffer);
            if (seq.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8))
            {
                reader.AdvanceTo(seq.Position);
                return;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    [Benchmark]
    public async Task FanOut()
    {
        foreach (var c in _connections) c.TrySend(_frame, droppable: true);
        foreach (var reader in _clients)
        {
            long need = _frame.Length;
            while (need > 0)
            {
                var result = await reader.ReadAsync();
                long take = Math.Min(need, result.Buffer.Length);
                need -= take;
                reader.AdvanceTo(result.Buffer.GetPosition(take));
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var c in _connections) c.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(1));
    }
}

/// <summary>A <see cref="ConnectionContext"/> over two in-memory pipes; the benchmark plays the client.</summary>
internal sealed class PipeConnectionContext : ConnectionContext
{
    private readonly Pipe _toServer = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Pipe _toClient = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));

    public PipeConnectionContext() => Transport = new Duplex(_toServer.Reader, _toClient.Writer);

    public override string ConnectionId { get; set; } = "bench";

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public PipeWriter ClientOutput => _toServer.Writer;

    public PipeReader ClientInput => _toClient.Reader;

    public override void Abort(ConnectionAbortedException abortReason)
    {
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
