namespace ChatServer.Client;

/// <summary>The HTTP error object <c>{code, title, status, detail, retryAfterMs}</c> (every key present).</summary>
internal sealed record ErrorBody(string Code, string? Title, int Status, string? Detail, long? RetryAfterMs);
