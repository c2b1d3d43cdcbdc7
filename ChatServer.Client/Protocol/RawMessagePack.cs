namespace ChatServer.Client;

/// <summary>
/// Pre-encoded MessagePack bytes that <see cref="ChatCodec.WriteValue"/> copies verbatim (for example a
/// truncated value, a <c>str</c> with invalid UTF-8, or an integer in a non-shortest width).
/// </summary>
/// <param name="Bytes">The bytes to copy.</param>
public readonly record struct RawMessagePack(ReadOnlyMemory<byte> Bytes);
