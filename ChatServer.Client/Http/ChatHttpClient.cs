using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ChatServer.Client;

/// <summary>
/// The chat server's HTTP/JSON API (PROTOCOL.md §8): one method per route. Requests carry
/// <see cref="AccessToken"/> as a Bearer token when it is set.
/// </summary>
/// <remarks>
/// Error responses throw <see cref="ChatApiException"/>. A response that breaks the contract (a success
/// status other than the route's, a body missing record keys, an error body that is not the error
/// object) throws <see cref="ChatProtocolException"/>. The <see cref="HttpClient"/> is not owned: share
/// one between many instances (one per user) and dispose it yourself.
/// </remarks>
public sealed partial class ChatHttpClient
{
    private const int MaxBodyInMessage = 500;

    private readonly HttpClient _http;
    private readonly Uri? _baseAddress;

    /// <summary>Creates a client.</summary>
    /// <param name="httpClient">The transport.</param>
    /// <param name="baseAddress">The server's address (e.g. <c>http://127.0.0.1:5000</c>); null uses <see cref="HttpClient.BaseAddress"/>.</param>
    public ChatHttpClient(HttpClient httpClient, Uri? baseAddress = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        if (baseAddress is null && httpClient.BaseAddress is null)
        {
            throw new ArgumentException("Either baseAddress or HttpClient.BaseAddress must be set.", nameof(baseAddress));
        }

        _http = httpClient;
        _baseAddress = baseAddress;
    }

    /// <summary>The access token sent as <c>Authorization: Bearer</c>; set by <see cref="LoginAsync"/> and <see cref="RefreshAsync"/>.</summary>
    public string? AccessToken { get; set; }

    /// <summary>The refresh token; set by <see cref="LoginAsync"/> and <see cref="RefreshAsync"/>.</summary>
    public string? RefreshToken { get; set; }

    /// <summary>The logged-in user (used by <see cref="LeaveGroupAsync"/>); set by <see cref="LoginAsync"/> and <see cref="RefreshAsync"/>.</summary>
    public Guid? UserId { get; set; }

    /// <summary>
    /// Sends any request and returns the response as received, never throwing for its status: for tests of
    /// malformed input and of status codes. <see cref="AccessToken"/> is sent when set.
    /// </summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="pathAndQuery">The path, e.g. <c>/v1/groups?limit=0</c>.</param>
    /// <param name="jsonBody">The body, sent verbatim as <c>application/json</c>; null sends none.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response.</returns>
    public async Task<RawHttpResponse> SendRawAsync(
        HttpMethod method, string pathAndQuery, string? jsonBody = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        HttpContent? content = jsonBody is null ? null : new StringContent(jsonBody, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await SendCoreAsync(method, pathAndQuery, content, cancellationToken)
            .ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return new RawHttpResponse((int)response.StatusCode, body, response.Headers, response.Content.Headers);
    }

    /// <summary>Turns an error response into <see cref="ChatApiException"/>, or <see cref="ChatProtocolException"/> when it is not the error object.</summary>
    internal static Exception ParseError(int status, string body)
    {
        ErrorBody? error;
        try
        {
            error = JsonSerializer.Deserialize(body, ChatJsonContext.Default.ErrorBody);
        }
        catch (JsonException e)
        {
            return new ChatProtocolException(
                string.Create(CultureInfo.InvariantCulture, $"HTTP {status} with a body that is not the error object ({e.Message}): {Truncate(body)}"),
                e);
        }

        if (error is null)
        {
            return new ChatProtocolException(string.Create(CultureInfo.InvariantCulture, $"HTTP {status} with a null error body."));
        }

        if (error.Status != status)
        {
            return new ChatProtocolException(string.Create(
                CultureInfo.InvariantCulture, $"HTTP {status} with an error body saying status {error.Status}: {Truncate(body)}"));
        }

        return new ChatApiException(error.Code, error.Title ?? string.Empty, error.Status, error.Detail, error.RetryAfterMs);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(
        HttpMethod method, string pathAndQuery, HttpContent? content, CancellationToken cancellationToken)
    {
        Uri uri = _baseAddress is null
            ? new Uri(pathAndQuery, UriKind.Relative)
            : new Uri(_baseAddress, pathAndQuery);
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        if (AccessToken is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<T> SendJsonAsync<T>(
        HttpMethod method,
        string pathAndQuery,
        JsonBody? body,
        int expectedStatus,
        JsonTypeInfo<T> type,
        CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendCoreAsync(method, pathAndQuery, body?.ToContent(), cancellationToken)
            .ConfigureAwait(false);
        await EnsureStatusAsync(response, method, pathAndQuery, expectedStatus, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendNoContentAsync(
        HttpMethod method, string pathAndQuery, JsonBody? body, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendCoreAsync(method, pathAndQuery, body?.ToContent(), cancellationToken)
            .ConfigureAwait(false);
        await EnsureStatusAsync(response, method, pathAndQuery, 204, cancellationToken).ConfigureAwait(false);
    }

    private static async Task EnsureStatusAsync(
        HttpResponseMessage response, HttpMethod method, string pathAndQuery, int expectedStatus, CancellationToken cancellationToken)
    {
        int status = (int)response.StatusCode;
        if (status == expectedStatus)
        {
            return;
        }

        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            throw new ChatProtocolException(string.Create(
                CultureInfo.InvariantCulture,
                $"{method} {pathAndQuery} answered {status}; the contract says {expectedStatus}. Body: {Truncate(text)}"));
        }

        throw ParseError(status, text);
    }

    private static async Task<T> ReadJsonAsync<T>(
        HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync(stream, type, cancellationToken).ConfigureAwait(false)
                    ?? throw new ChatProtocolException($"The response body is null, expected {typeof(T).Name}.");
            }
        }
        catch (JsonException e)
        {
            throw new ChatProtocolException($"The response body is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }

    private static string Truncate(string text) =>
        text.Length <= MaxBodyInMessage ? text : string.Concat(text.AsSpan(0, MaxBodyInMessage), "…");

    private static string Query(string path, string name1, string? value1, string name2, string? value2)
    {
        if (value1 is null && value2 is null)
        {
            return path;
        }

        var builder = new StringBuilder(path);
        char separator = '?';
        foreach ((string name, string? value) in (ReadOnlySpan<(string, string?)>)[(name1, value1), (name2, value2)])
        {
            if (value is not null)
            {
                builder.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
                separator = '&';
            }
        }

        return builder.ToString();
    }

    private static string? Format(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string? Format(Guid? value) => value?.ToString("D");
}
