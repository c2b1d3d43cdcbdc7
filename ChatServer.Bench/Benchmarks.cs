using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using ChatServer.Auth;
using ChatServer.Gateway;
using ChatServer.Gateway.WebSockets;
using ChatServer.Storage;

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
