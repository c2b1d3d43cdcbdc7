namespace ChatServer.Tests.Client.Support;

/// <summary>The MessagePack integer format a test encoder uses (widened when the value does not fit).</summary>
public enum IntWidth
{
    Shortest,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Int8,
    Int16,
    Int32,
    Int64,
}
