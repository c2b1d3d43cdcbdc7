using System.Net.Http.Headers;

namespace ChatServer.Client;

/// <summary>An HTTP response as received, from <see cref="ChatHttpClient.SendRawAsync"/>.</summary>
public sealed class RawHttpResponse
{
    internal RawHttpResponse(int statusCode, string body, HttpResponseHeaders headers, HttpContentHeaders contentHeaders)
    {
        StatusCode = statusCode;
        Body = body;
        Headers = headers;
        ContentHeaders = contentHeaders;
    }

    /// <summary>The HTTP status.</summary>
    public int StatusCode { get; }

    /// <summary>The body as text (empty when there was none).</summary>
    public string Body { get; }

    /// <summary>The response headers (e.g. <c>Retry-After</c>).</summary>
    public HttpResponseHeaders Headers { get; }

    /// <summary>The content headers (e.g. <c>Content-Type</c>).</summary>
    public HttpContentHeaders ContentHeaders { get; }

    /// <summary>Parses <see cref="Body"/> as the protocol's error object.</summary>
    /// <returns>The error.</returns>
    /// <exception cref="ChatProtocolException">The body is not a complete error object matching <see cref="StatusCode"/>.</exception>
    public ChatApiException ReadError() => ChatHttpClient.ParseError(StatusCode, Body) switch
    {
        ChatApiException error => error,
        Exception other => throw other,
    };

    /// <summary>Deconstructs into status and body: <c>var (status, body) = await http.SendRawAsync(…);</c>.</summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="body">The body text.</param>
    public void Deconstruct(out int statusCode, out string body)
    {
        statusCode = StatusCode;
        body = Body;
    }
}
