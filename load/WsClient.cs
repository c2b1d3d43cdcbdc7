using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MessagePack;

namespace ChatLoad;

/// <summary>What a <see cref="WsClient"/> tells its owner about each received message.</summary>
internal interface IWsHandler
{
    /// <summary>A success reply <c>[0, rid, ...]</c>; the reader is positioned after the rid.</summary>
    void OnReply(WsClient client, uint rid, ref MessagePackReader rest);

    /// <summary>An error reply <c>[1, rid, code, ...]</c>.</summary>
    void OnError(WsClient client, uint rid, string code);

    /// <summary>A push <c>[2, type, ...]</c>; the reader is positioned after the type.</summary>
    void OnPush(WsClient client, int type, ref MessagePackReader rest);

    /// <summary>The connection ended (close frame, reset or end of stream).</summary>
    void OnClosed(WsClient client);
}

/// <summary>
/// A lean WebSocket client for load: a raw <see cref="Socket"/>, a hand-written RFC 6455 handshake and
/// framing (client frames masked), one receive loop, synchronous sends under a lock. Costs one socket, one
/// receive buffer and this object per connection — far less than <c>ClientWebSocket</c>.
/// </summary>
internal sealed class WsClient
{
    private const int InitialBuffer = 4096;
    private static readonly byte[] s_maskSeed = new byte[4];

    private readonly object _sendLock = new();
    private readonly IWsHandler _handler;
    private Socket? _socket;
    private byte[] _buffer = [];
    private byte[] _sendBuffer = new byte[256];
    private int _filled;
    private uint _mask;
    private int _closed;

    public WsClient(int index, IWsHandler handler)
    {
        Index = index;
        _handler = handler;
    }

    public int Index { get; }

    public bool IsOpen => _socket is not null && Volatile.Read(ref _closed) == 0;

    /// <summary>Scenario state attached by the owner.</summary>
    public object? State { get; set; }

    public async Task ConnectAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
            Span<byte> key = stackalloc byte[16];
            Random.Shared.NextBytes(key);
            string request = "GET /v1/ws HTTP/1.1\r\nHost: " + endpoint + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: " + Convert.ToBase64String(key) + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, ct).ConfigureAwait(false);
            var buffer = new byte[InitialBuffer];
            int filled = 0, end;
            while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (filled == buffer.Length) throw new IOException("handshake response too long");
                int n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0) throw new IOException("connection closed during the handshake");
                filled += n;
            }

            if (!buffer.AsSpan(0, end).StartsWith("HTTP/1.1 101"u8))
            {
                throw new IOException("handshake refused: " + Encoding.ASCII.GetString(buffer, 0, Math.Min(end, 80)));
            }

            end += 4;
            Buffer.BlockCopy(buffer, end, buffer, 0, filled - end);
            _filled = filled - end;
            _buffer = buffer;
            _mask = (uint)Random.Shared.Next() | 1;
            _socket = socket;
            Volatile.Write(ref _closed, 0);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts the receive loop (after <see cref="ConnectAsync"/>).</summary>
    public Task RunAsync() => ReceiveLoopAsync();

    /// <summary>Sends one binary message (the payload is masked into a private buffer; thread-safe).</summary>
    public bool Send(ReadOnlySpan<byte> payload) => SendFrame(0x2, payload);

    /// <summary>Drops the connection at once (no close handshake), as a network failure would.</summary>
    public void Abort()
    {
        var socket = _socket;
        if (socket is null) return;
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        socket.Dispose();
    }

    private bool SendFrame(int opcode, ReadOnlySpan<byte> payload)
    {
        var socket = _socket;
        if (socket is null || Volatile.Read(ref _closed) != 0) return false;
        lock (_sendLock)
        {
            int header = payload.Length < 126 ? 6 : payload.Length <= ushort.MaxValue ? 8 : 14;
            int total = header + payload.Length;
            if (_sendBuffer.Length < total) _sendBuffer = new byte[Math.Max(total, _sendBuffer.Length * 2)];
            var frame = _sendBuffer.AsSpan(0, total);
            frame[0] = (byte)(0x80 | opcode);
            if (header == 6)
            {
                frame[1] = (byte)(0x80 | payload.Length);
            }
            else if (header == 8)
            {
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)payload.Length);
            }
            else
            {
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)payload.Length);
            }

            _mask = unchecked((_mask * 1_664_525) + 1_013_904_223);
            BinaryPrimitives.WriteUInt32LittleEndian(frame[(header - 4)..], _mask);
            var body = frame[header..];
            payload.CopyTo(body);
            Span<byte> key = frame.Slice(header - 4, 4);
            for (int i = 0; i < body.Length; i++) body[i] ^= key[i & 3];
            try
            {
                int sent = 0;
                while (sent < total) sent += socket.Send(frame[sent..], SocketFlags.None);
                return true;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var socket = _socket!;
        try
        {
            while (true)
            {
                if (!ProcessFrames()) break;
                if (_filled == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                int n = await socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None).ConfigureAwait(false);
                if (n == 0) break;
                _filled += n;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                socket.Dispose();
                _handler.OnClosed(this);
            }
        }
    }

    /// <summary>Handles every complete frame in the buffer; false once a close frame arrived.</summary>
    private bool ProcessFrames()
    {
        int pos = 0;
        bool open = true;
        while (open)
        {
            var span = _buffer.AsSpan(pos, _filled - pos);
            if (span.Length < 2) break;
            int opcode = span[0] & 0x0F;
            long len = span[1] & 0x7F;
            int header = 2;
            if (len == 126)
            {
                if (span.Length < 4) break;
                len = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                header = 4;
            }
            else if (len == 127)
            {
                if (span.Length < 10) break;
                len = (long)BinaryPrimitives.ReadUInt64BigEndian(span[2..]);
                header = 10;
            }

            if (span.Length < header + len)
            {
                if (header + len > _buffer.Length) Array.Resize(ref _buffer, (int)Math.Max(header + len, _buffer.Length * 2L));
                break;
            }

            var payload = _buffer.AsMemory(pos + header, (int)len);
            pos += header + (int)len;
            switch (opcode)
            {
                case 0x2: Dispatch(payload); break;
                case 0x9: SendFrame(0xA, payload.Span); break;
                case 0x8: open = false; break;
                default: break;
            }
        }

        if (pos > 0)
        {
            Buffer.BlockCopy(_buffer, pos, _buffer, 0, _filled - pos);
            _filled -= pos;
        }

        return open;
    }

    private void Dispatch(ReadOnlyMemory<byte> payload)
    {
        var r = new MessagePackReader(payload);
        r.ReadArrayHeader();
        int kind = r.ReadInt32();
        switch (kind)
        {
            case 0:
                _handler.OnReply(this, r.ReadUInt32(), ref r);
                break;
            case 1:
                uint rid = r.ReadUInt32();
                _handler.OnError(this, rid, r.ReadString() ?? "");
                break;
            case 2:
                int type = r.ReadInt32();
                _handler.OnPush(this, type, ref r);
                break;
            default:
                break;
        }
    }
}
