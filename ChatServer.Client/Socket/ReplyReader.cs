using MessagePack;

namespace ChatServer.Client;

/// <summary>Reads the result of a success reply; consumes exactly <paramref name="fieldCount"/> values.</summary>
internal delegate T ReplyReader<T>(ref MessagePackReader reader, int fieldCount);
