namespace ChatServer.Chat;

/// <summary>An expected failure of a service operation, with the protocol's stable code and HTTP status.</summary>
internal sealed record ChatError(string Code, int Status, string Title, string? Detail = null, long? RetryAfterMs = null)
{
    public static ChatError InvalidArgument(string detail) => new("invalid_argument", 400, "Invalid argument", detail);

    public static ChatError Unauthenticated(string detail) => new("unauthenticated", 401, "Unauthenticated", detail);

    public static ChatError Forbidden(string detail) => new("forbidden", 403, "Forbidden", detail);

    public static ChatError NotFound(string detail) => new("not_found", 404, "Not found", detail);

    public static ChatError Conflict(string detail) => new("conflict", 409, "Conflict", detail);

    public static ChatError TooLarge(string detail) => new("too_large", 413, "Too large", detail);

    public static ChatError RateLimited(string detail, long retryAfterMs) => new("rate_limited", 429, "Rate limited", detail, retryAfterMs);

    public static ChatError Unavailable(string detail) => new("unavailable", 503, "Unavailable", detail);

    public static ChatError Internal(string detail) => new("internal", 500, "Internal error", detail);

    public static ChatError UnknownOp(string detail) => new("unknown_op", 400, "Unknown operation", detail);
}

/// <summary>The outcome of a service operation: a value or a <see cref="ChatError"/>.</summary>
internal readonly struct Result<T>
{
    private Result(T? value, ChatError? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public ChatError? Error { get; }

    public bool IsOk => Error is null;

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(ChatError error) => new(default, error);
}

/// <summary>A result with no value.</summary>
internal readonly struct Unit
{
    public static readonly Unit Value;
}
