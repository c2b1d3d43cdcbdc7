namespace ChatServer.Client;

/// <summary>
/// A message the client could not attribute to a request or decode: a text message, a malformed frame, a
/// reply whose rid has no request waiting (for instance after a timeout), or trailing bytes. Each one is a
/// server contract violation unless the test provoked it; functional tests can assert there are none.
/// </summary>
/// <param name="Reason">What was wrong.</param>
/// <param name="Frame">The whole message.</param>
public sealed record UnexpectedFramePush(string Reason, ReadOnlyMemory<byte> Frame) : ServerPush;
