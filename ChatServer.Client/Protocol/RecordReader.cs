using MessagePack;

namespace ChatServer.Client;

/// <summary>Reads one record from a MessagePack reader.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <param name="reader">The reader, positioned at the record.</param>
/// <returns>The record.</returns>
public delegate T RecordReader<T>(ref MessagePackReader reader);
