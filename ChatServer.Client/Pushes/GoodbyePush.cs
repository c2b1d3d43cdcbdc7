namespace ChatServer.Client;

/// <summary>The server is about to close the connection (push type 10).</summary>
/// <param name="Reason"><c>token_revoked</c>, <c>token_expired</c>, <c>server_shutdown</c>, <c>slow_consumer</c> or <c>moved</c>.</param>
/// <param name="RetryAfterMs">When to reconnect, if the server says.</param>
public sealed record GoodbyePush(string Reason, long? RetryAfterMs) : ServerPush;
