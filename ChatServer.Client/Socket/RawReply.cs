using MessagePack;

namespace ChatServer.Client;

/// <summary>
/// An undecoded reply, from <see cref="ChatSocket.RequestRawAsync(ReadOnlyMemory{byte}, uint, CancellationToken)"/>:
/// a success <c>[0, rid, ...result]</c> or an error <c>[1, rid, code, title, status, retryAfterMs]</c>.
/// </summary>
public sealed class RawReply
{
    private readonly int _resultOffset;

    internal RawReply(uint rid, byte[] frame, int resultOffset, int resultCount, ChatApiException? error)
    {
        Rid = rid;
        Frame = frame;
        _resultOffset = resultOffset;
        ResultCount = resultCount;
        Error = error;
    }

    /// <summary>The rid the reply carried.</summary>
    public uint Rid { get; }

    /// <summary>Whether this is an error reply (then <see cref="Error"/> is set).</summary>
    public bool IsError => Error is not null;

    /// <summary>The decoded error of an error reply, else null.</summary>
    public ChatApiException? Error { get; }

    /// <summary>The whole message.</summary>
    public ReadOnlyMemory<byte> Frame { get; }

    /// <summary>The bytes after the rid: <see cref="ResultCount"/> MessagePack values.</summary>
    public ReadOnlyMemory<byte> Result => Frame[_resultOffset..];

    /// <summary>The number of values after the rid.</summary>
    public int ResultCount { get; }

    /// <summary>A reader over <see cref="Result"/>, e.g. <c>var r = reply.CreateResultReader(); ChatCodec.ReadGroup(ref r);</c>.</summary>
    /// <returns>The reader.</returns>
    public MessagePackReader CreateResultReader() => new(Result);

    /// <summary>Throws <see cref="Error"/> when this is an error reply.</summary>
    /// <returns>This reply.</returns>
    public RawReply EnsureSuccess() => Error is { } error ? throw error : this;
}
