using System.Globalization;

namespace ChatServer.Client;

/// <summary>
/// An error answered by the server: an HTTP error body <c>{code, title, status, detail, retryAfterMs}</c>
/// or a WebSocket error reply <c>[1, rid, code, title, status, retryAfterMs]</c>.
/// </summary>
public sealed class ChatApiException : Exception
{
    /// <summary>Creates the exception from the fields of an error body or reply.</summary>
    /// <param name="code">The stable snake_case code (see <see cref="ChatErrorCodes"/>).</param>
    /// <param name="title">Human-readable text.</param>
    /// <param name="status">The matching HTTP status.</param>
    /// <param name="detail">Optional detail (HTTP only).</param>
    /// <param name="retryAfterMs">When to retry, for <c>rate_limited</c>.</param>
    public ChatApiException(string code, string title, int status, string? detail = null, long? retryAfterMs = null)
        : base(FormatMessage(code, title, status, detail, retryAfterMs))
    {
        Code = code;
        Title = title;
        Status = status;
        Detail = detail;
        RetryAfterMs = retryAfterMs;
    }

    /// <summary>The stable snake_case code (see <see cref="ChatErrorCodes"/>).</summary>
    public string Code { get; }

    /// <summary>Human-readable text.</summary>
    public string Title { get; }

    /// <summary>The HTTP status matching <see cref="Code"/>.</summary>
    public int Status { get; }

    /// <summary>Optional detail; WebSocket error replies carry none.</summary>
    public string? Detail { get; }

    /// <summary>Milliseconds to wait before retrying, set for <c>rate_limited</c>.</summary>
    public long? RetryAfterMs { get; }

    private static string FormatMessage(string code, string title, int status, string? detail, long? retryAfterMs)
    {
        string message = string.Create(CultureInfo.InvariantCulture, $"{code} ({status}): {title}");
        if (!string.IsNullOrEmpty(detail))
        {
            message += " — " + detail;
        }

        if (retryAfterMs is { } retry)
        {
            message += string.Create(CultureInfo.InvariantCulture, $" (retry after {retry} ms)");
        }

        return message;
    }
}
