using System.Globalization;

namespace ChatServer.Client;

public sealed partial class ChatHttpClient
{
    /// <summary><c>POST /v1/users</c> → 201 <see cref="User"/>.</summary>
    /// <param name="username">3–32 of <c>[a-z0-9_.]</c> (lower-cased by the server).</param>
    /// <param name="displayName">1–64 chars.</param>
    /// <param name="password">8–128 chars.</param>
    /// <param name="mobileNumber">Optional; the key is left out when null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new user.</returns>
    public Task<User> RegisterAsync(
        string username, string displayName, string password, string? mobileNumber = null, CancellationToken cancellationToken = default)
    {
        var body = new JsonBody();
        body.Writer.WriteString("username", username);
        body.Writer.WriteString("displayName", displayName);
        if (mobileNumber is not null)
        {
            body.Writer.WriteString("mobileNumber", mobileNumber);
        }

        body.Writer.WriteString("password", password);
        return SendJsonAsync(HttpMethod.Post, "/v1/users", body, 201, ChatJsonContext.Default.User, cancellationToken);
    }

    /// <summary>
    /// <c>POST /v1/sessions</c> → 200 <see cref="LoginResult"/>. Sets <see cref="AccessToken"/>,
    /// <see cref="RefreshToken"/> and <see cref="UserId"/>.
    /// </summary>
    /// <param name="username">The username.</param>
    /// <param name="password">The password.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tokens.</returns>
    public async Task<LoginResult> LoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        var body = new JsonBody();
        body.Writer.WriteString("username", username);
        body.Writer.WriteString("password", password);
        LoginResult login = await SendJsonAsync(
            HttpMethod.Post, "/v1/sessions", body, 200, ChatJsonContext.Default.LoginResult, cancellationToken)
            .ConfigureAwait(false);
        Remember(login);
        return login;
    }

    /// <summary>
    /// <c>POST /v1/sessions/refresh</c> → 200 <see cref="LoginResult"/> (the refresh token rotates). Sets
    /// <see cref="AccessToken"/>, <see cref="RefreshToken"/> and <see cref="UserId"/>.
    /// </summary>
    /// <param name="refreshToken">The refresh token; null uses <see cref="RefreshToken"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new tokens.</returns>
    public async Task<LoginResult> RefreshAsync(string? refreshToken = null, CancellationToken cancellationToken = default)
    {
        string token = refreshToken ?? RefreshToken
            ?? throw new InvalidOperationException("No refresh token: log in first or pass one.");
        var body = new JsonBody();
        body.Writer.WriteString("refreshToken", token);
        LoginResult login = await SendJsonAsync(
            HttpMethod.Post, "/v1/sessions/refresh", body, 200, ChatJsonContext.Default.LoginResult, cancellationToken)
            .ConfigureAwait(false);
        Remember(login);
        return login;
    }

    /// <summary>
    /// <c>DELETE /v1/sessions</c> (<c>?all=true</c> with <paramref name="all"/>) → 204: revokes this login, or every
    /// login of the user. The tokens are kept, so tests can check that they no longer work.
    /// </summary>
    /// <param name="all">Revoke every login of the user.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes with the response.</returns>
    public Task LogoutAsync(bool all = false, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, all ? "/v1/sessions?all=true" : "/v1/sessions", null, cancellationToken);

    /// <summary><c>GET /v1/users/{id}</c> → 200 <see cref="User"/>.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The user.</returns>
    public Task<User> GetUserAsync(Guid userId, CancellationToken cancellationToken = default) =>
        SendJsonAsync(
            HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/v1/users/{userId:D}"), null, 200,
            ChatJsonContext.Default.User, cancellationToken);

    /// <summary><c>GET /v1/users/@{username}</c> → 200 <see cref="User"/> (the <c>@</c> is added when missing).</summary>
    /// <param name="username">The username, with or without a leading <c>@</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The user.</returns>
    public Task<User> GetUserAsync(string username, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(username);
        string name = username.StartsWith('@') ? username[1..] : username;
        return SendJsonAsync(
            HttpMethod.Get, "/v1/users/@" + Uri.EscapeDataString(name), null, 200, ChatJsonContext.Default.User, cancellationToken);
    }

    private void Remember(LoginResult login)
    {
        AccessToken = login.AccessToken;
        RefreshToken = login.RefreshToken;
        UserId = login.UserId;
    }
}
