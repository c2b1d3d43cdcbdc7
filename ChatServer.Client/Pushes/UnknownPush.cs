namespace ChatServer.Client;

/// <summary>A well-formed push of a type this client does not know (kept for forward compatibility).</summary>
/// <param name="Type">The push type.</param>
/// <param name="Frame">The whole message.</param>
public sealed record UnknownPush(int Type, ReadOnlyMemory<byte> Frame) : ServerPush;
