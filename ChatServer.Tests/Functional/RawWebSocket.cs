using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ChatServer.Tests.Functional;

/// <summary>
/// A bare RFC 6455 client on a TCP socket that answers nothing by itself (no automatic pongs), for tests of
/// server pings and of the idle timeout, which ClientWebSocket's automatic pongs would hide.
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawWebSocket> ConnectAsync(Uri gateway)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.Host, gateway.Port);
        var ws = new RawWebSocket(tcp);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET {gateway.AbsolutePath} HTTP/1.1\r\nHost: {gateway.Host}:{gateway.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n";
        await ws._stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await ws._stream.ReadAsync(one) == 0) throw new IOException("the server closed during the handshake");
            head.Append((char)one[0]);
        }

        if (!head.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) throw new IOException("handshake refused: " + head);
        return ws;
    }

    /// <summary>Sends one masked frame (FIN set).</summary>
    public async Task SendAsync(int opcode, ReadOnlyMemory<byte> payload)
    {
        var header = new List<byte> { (byte)(0x80 | opcode) };
        if (payload.Length < 126)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        else
        {
            header.Add(0x80 | 127);
            var len = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(len, (ulong)payload.Length);
            header.AddRange(len);
        }

        var mask = RandomNumberGenerator.GetBytes(4);
        header.AddRange(mask);
        var masked = payload.ToArray();
        for (var i = 0; i < masked.Length; i++) masked[i] ^= mask[i % 4];
        await _stream.WriteAsync(header.ToArray());
        await _stream.WriteAsync(masked);
    }

    /// <summary>Reads the next frame; null when the connection ended.</summary>
    public async Task<(int Opcode, byte[] Payload)?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var head = new byte[2];
        if (!await ReadExactlyAsync(head, cancellationToken)) return null;
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            if (!await ReadExactlyAsync(ext, cancellationToken)) return null;
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            if (!await ReadExactlyAsync(ext, cancellationToken)) return null;
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
        }

        var payload = new byte[length];
        if (!await ReadExactlyAsync(payload, cancellationToken)) return null;
        return (head[0] & 0x0F, payload);
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, cancellationToken);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
