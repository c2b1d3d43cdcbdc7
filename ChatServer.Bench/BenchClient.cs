using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using ChatServer.Gateway.WebSockets;

namespace ChatServer.Bench;

/// <summary>The client side of the in-memory connections: upgrade request, masked frames, and reading what the server wrote.</summary>
internal static class BenchClient
{
    public static readonly byte[] UpgradeRequest = Encoding.ASCII.GetBytes(
        "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

    /// <summary>A final binary frame as a client sends it (masked, RFC 6455 §5.3): the server's header with the mask bit and key.</summary>
    public static byte[] MaskedBinaryFrame(ReadOnlySpan<byte> payload)
    {
        int header = WebSocketFrames.HeaderLength(payload.Length);
        var frame = new byte[header + 4 + payload.Length];
        WebSocketFrames.WriteHeader(frame, WebSocketFrames.OpBinary, fin: true, payload.Length);
        frame[1] |= 0x80;
        ReadOnlySpan<byte> mask = [0x11, 0x22, 0x33, 0x44];
        mask.CopyTo(frame.AsSpan(header));
        for (int i = 0; i < payload.Length; i++)
        {
            frame[header + 4 + i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return frame;
    }

    /// <summary>Reads past the server's 101 response head.</summary>
    public static void SkipResponseHead(PipeReader reader)
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

            if (result.IsCompleted)
            {
                throw new InvalidOperationException("the server closed the connection during the handshake");
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>Reads past <paramref name="count"/> whole server frames (unmasked).</summary>
    public static void SkipFrames(PipeReader reader, int count)
    {
        while (count > 0)
        {
            var result = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            var buffer = result.Buffer;
            while (count > 0 && TryFrameLength(buffer, out long length) && buffer.Length >= length)
            {
                buffer = buffer.Slice(length);
                count--;
            }

            if (count > 0 && result.IsCompleted)
            {
                throw new InvalidOperationException("the server closed the connection");
            }

            reader.AdvanceTo(buffer.Start, result.Buffer.End);
        }
    }

    private static bool TryFrameLength(ReadOnlySequence<byte> buffer, out long length)
    {
        length = 0;
        Span<byte> head = stackalloc byte[10];
        if (buffer.Length < 2)
        {
            return false;
        }

        buffer.Slice(0, Math.Min(10, buffer.Length)).CopyTo(head);
        int marker = head[1] & 0x7F;
        int headerBytes = marker < 126 ? 2 : marker == 126 ? 4 : 10;
        if (buffer.Length < headerBytes)
        {
            return false;
        }

        long payload = marker < 126 ? marker : marker == 126 ? BinaryPrimitives.ReadUInt16BigEndian(head[2..]) : (long)BinaryPrimitives.ReadUInt64BigEndian(head[2..]);
        length = headerBytes + payload;
        return true;
    }

    /// <summary>
    /// Reads <paramref name="bytes"/> from each reader in turn (every client receives the same frame). The state machine
    /// is pooled so that the client side allocates nothing and the allocation column is the server's alone.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask ReadFromEachAsync(PipeReader[] readers, long bytes)
    {
        foreach (var reader in readers)
        {
            long need = bytes;
            while (need > 0)
            {
                var result = await reader.ReadAsync();
                long take = Math.Min(need, result.Buffer.Length);
                need -= take;
                reader.AdvanceTo(result.Buffer.GetPosition(take));
            }
        }
    }

    /// <summary>
    /// Repeats a fan-out until it has allocated next to nothing (under 4 KiB) five times in a row, at most 300 times. The first
    /// fan-outs to many connections grow what a running server has already grown: the block pool to its high-water mark
    /// (how many writers hold a block at the same moment depends on scheduling) and each thread-pool thread's local work
    /// queue to the largest burst of writer wake-ups it has queued (object arrays on the large object heap, found with an
    /// allocation trace at 50,000 connections). BenchmarkDotNet's few warm-up operations do not reach that state.
    /// </summary>
    public static void WarmUntilSteady(Func<ValueTask> fanOut)
    {
        int quiet = 0;
        for (int i = 0; i < 300 && quiet < 5; i++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            fanOut().AsTask().GetAwaiter().GetResult();
            quiet = GC.GetTotalAllocatedBytes(precise: true) - before < 4096 ? quiet + 1 : 0;
        }
    }
}
