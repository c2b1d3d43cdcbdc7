namespace ChatServer.Client;

/// <summary>The stable error codes of the protocol (<see cref="ChatApiException.Code"/>).</summary>
public static class ChatErrorCodes
{
    /// <summary>Wrong argument types, ranges, lengths or invalid UTF-8 (400).</summary>
    public const string InvalidArgument = "invalid_argument";

    /// <summary>Missing, bad, expired or revoked credentials (401).</summary>
    public const string Unauthenticated = "unauthenticated";

    /// <summary>Not a member, or not allowed for the caller's role (403).</summary>
    public const string Forbidden = "forbidden";

    /// <summary>The thing does not exist or is invisible to the caller (404).</summary>
    public const string NotFound = "not_found";

    /// <summary>A conflicting state, e.g. a taken username (409).</summary>
    public const string Conflict = "conflict";

    /// <summary>A body over the maximum (413).</summary>
    public const string TooLarge = "too_large";

    /// <summary>Too many requests; <see cref="ChatApiException.RetryAfterMs"/> says when to retry (429).</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>The server cannot serve the request now (503).</summary>
    public const string Unavailable = "unavailable";

    /// <summary>A server fault (500).</summary>
    public const string Internal = "internal";

    /// <summary>An op number that does not exist (400).</summary>
    public const string UnknownOp = "unknown_op";
}
