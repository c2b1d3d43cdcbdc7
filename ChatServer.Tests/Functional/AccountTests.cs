using System.Text.Json;
using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

public sealed class AccountTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly TestServer _server = shared.Server;

    private static string UniqueName(string prefix = "u") => prefix + Guid.NewGuid().ToString("N")[..12];

    private static string RegisterBody(string? username, string? displayName, string? password) =>
        JsonSerializer.Serialize(new Dictionary<string, string?>
        {
            ["username"] = username,
            ["displayName"] = displayName,
            ["password"] = password,
        });

    private static void AssertErrorShape(RawHttpResponse response, int status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.StartsWith("application/json", response.ContentHeaders.ContentType?.ToString());
        using var doc = JsonDocument.Parse(response.Body);
        var root = doc.RootElement;
        foreach (var key in new[] { "code", "title", "status", "detail", "retryAfterMs" })
        {
            Assert.True(root.TryGetProperty(key, out _), $"the error body lacks \"{key}\": {response.Body}");
        }

        Assert.Equal(code, root.GetProperty("code").GetString());
        Assert.Equal(status, root.GetProperty("status").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("retryAfterMs").ValueKind);
        Assert.Equal(code, response.ReadError().Code);
    }

    [Fact]
    public async Task Register_answers_201_with_the_username_lower_cased()
    {
        var http = _server.NewHttp();
        var name = UniqueName("MiXeD.");

        var response = await http.SendRawAsync(HttpMethod.Post, "/v1/users", RegisterBody(name, "Mixed Case", "password123"));

        Assert.Equal(201, response.StatusCode);
        var user = JsonSerializer.Deserialize<JsonElement>(response.Body);
        Assert.Equal(name.ToLowerInvariant(), user.GetProperty("username").GetString());
        Assert.Equal("Mixed Case", user.GetProperty("displayName").GetString());
        var id = Guid.Parse(user.GetProperty("userId").GetString()!);
        Assert.Equal(id.ToString("D"), user.GetProperty("userId").GetString());
        Assert.Equal(7, id.Version);
        var login = await http.LoginAsync(name.ToUpperInvariant(), "password123");
        Assert.Equal(id, login.UserId);
    }

    [Fact]
    public async Task Register_of_a_taken_username_is_conflict_whatever_its_case()
    {
        var http = _server.NewHttp();
        var name = UniqueName("taken_");
        await http.RegisterAsync(name, "First", "password123");

        await Expect.ErrorAsync(ChatErrorCodes.Conflict, () => http.RegisterAsync(name, "Second", "password123"));
        await Expect.ErrorAsync(ChatErrorCodes.Conflict, () => http.RegisterAsync(name.ToUpperInvariant(), "Third", "password123"));
        var raw = await http.SendRawAsync(HttpMethod.Post, "/v1/users", RegisterBody("T" + name[1..], "Fourth", "password123"));
        AssertErrorShape(raw, 409, ChatErrorCodes.Conflict);
    }

    [Fact]
    public async Task Concurrent_registrations_of_one_username_create_exactly_one_user()
    {
        var name = UniqueName("race_");
        var attempts = Enumerable.Range(0, 8)
            .Select(i => _server.NewHttp().SendRawAsync(HttpMethod.Post, "/v1/users", RegisterBody(i % 2 == 0 ? name : name.ToUpperInvariant(), "Racer", "password123")))
            .ToArray();
        var results = await Task.WhenAll(attempts);

        Assert.Single(results, r => r.StatusCode == 201);
        Assert.All(results.Where(r => r.StatusCode != 201), r => AssertErrorShape(r, 409, ChatErrorCodes.Conflict));
    }

    public static TheoryData<string, string?, string?, string?> InvalidRegistrations => new()
    {
        { "username too short", "ab", "Name", "password123" },
        { "username too long", new string('a', 33), "Name", "password123" },
        { "username with a dash", "abc-def", "Name", "password123" },
        { "username with a space", "abc def", "Name", "password123" },
        { "username with an at sign", "@abcdef", "Name", "password123" },
        { "username with a non-ASCII letter", "abcdé", "Name", "password123" },
        { "username with NUL", "abc\0def", "Name", "password123" },
        { "username missing", null, "Name", "password123" },
        { "username empty", "", "Name", "password123" },
        { "display name empty", "validname", "", "password123" },
        { "display name missing", "validname", null, "password123" },
        { "display name of 65 chars", "validname", new string('d', 65), "password123" },
        { "display name with NUL", "validname", "Bad\0Name", "password123" },
        { "password of 7 chars", "validname", "Name", "1234567" },
        { "password of 129 chars", "validname", "Name", new string('p', 129) },
        { "password with NUL", "validname", "Name", "password\0123" },
        { "password missing", "validname", "Name", null },
    };

    [Theory]
    [MemberData(nameof(InvalidRegistrations))]
    public async Task Register_with_an_invalid_field_is_invalid_argument(string why, string? username, string? displayName, string? password)
    {
        // Every case must fail on its own field, so the otherwise valid username is made unique.
        var name = username == "validname" ? UniqueName("valid_") : username;

        var response = await _server.NewHttp().SendRawAsync(HttpMethod.Post, "/v1/users", RegisterBody(name, displayName, password));

        Assert.True(response.StatusCode == 400, $"{why}: {response.StatusCode} {response.Body}");
        AssertErrorShape(response, 400, ChatErrorCodes.InvalidArgument);
    }

    [Fact]
    public async Task Register_accepts_the_boundary_lengths_counting_code_points()
    {
        var http = _server.NewHttp();
        var name32 = (UniqueName("b") + new string('x', 32))[..32];
        var emoji64 = string.Concat(Enumerable.Repeat("😀", 64)); // 64 code points, 128 UTF-16 units

        var user = await http.RegisterAsync(name32, emoji64, new string('p', 128));
        var shortest = await http.RegisterAsync(UniqueName("c")[..3], "x", "12345678");

        Assert.Equal(name32, user.Username);
        Assert.Equal(emoji64, user.DisplayName);
        Assert.Equal(3, shortest.Username.Length);
        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => http.RegisterAsync(UniqueName("e"), emoji64 + "😀", "password123"));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"text\"")]
    [InlineData("{\"username\": 5, \"displayName\": \"x\", \"password\": \"password123\"}")]
    [InlineData("")]
    public async Task Register_with_a_malformed_body_is_invalid_argument_with_the_error_shape(string body)
    {
        var response = await _server.NewHttp().SendRawAsync(HttpMethod.Post, "/v1/users", body);

        AssertErrorShape(response, 400, ChatErrorCodes.InvalidArgument);
    }

    [Theory]
    [InlineData("/v1/sessions")]
    [InlineData("/v1/sessions/refresh")]
    [InlineData("/v1/groups")]
    public async Task Other_routes_with_a_malformed_body_are_invalid_argument_with_the_error_shape(string path)
    {
        var user = await _server.NewUserAsync();

        var response = await user.Http.SendRawAsync(HttpMethod.Post, path, "{\"name\": ");

        AssertErrorShape(response, 400, ChatErrorCodes.InvalidArgument);
    }

    [Fact]
    public async Task Login_with_a_bad_password_or_an_unknown_user_is_unauthenticated_alike()
    {
        var user = await _server.NewUserAsync();
        var http = _server.NewHttp();

        var badPassword = await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => http.LoginAsync(user.User.Username, "wrong-password"));
        var unknown = await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => http.LoginAsync(UniqueName("nobody"), "password123"));

        Assert.Equal(badPassword.Title, unknown.Title);
        Assert.Equal(badPassword.Detail, unknown.Detail);
        var raw = await http.SendRawAsync(HttpMethod.Post, "/v1/sessions", "{\"username\":\"" + user.User.Username + "\",\"password\":\"nope-nope\"}");
        AssertErrorShape(raw, 401, ChatErrorCodes.Unauthenticated);
    }

    [Fact]
    public async Task Login_lower_cases_the_username()
    {
        var user = await _server.NewUserAsync("Case");

        var login = await _server.NewHttp().LoginAsync(user.User.Username.ToUpperInvariant(), user.Password);

        Assert.Equal(user.Id, login.UserId);
        Assert.True(login.ExpiresIn > 0);
    }

    [Fact]
    public async Task Requests_without_a_valid_access_token_are_unauthenticated()
    {
        var http = _server.NewHttp();

        AssertErrorShape(await http.SendRawAsync(HttpMethod.Get, "/v1/groups"), 401, ChatErrorCodes.Unauthenticated);
        http.AccessToken = "not.a.token";
        AssertErrorShape(await http.SendRawAsync(HttpMethod.Get, "/v1/groups"), 401, ChatErrorCodes.Unauthenticated);
        AssertErrorShape(await http.SendRawAsync(HttpMethod.Delete, "/v1/sessions"), 401, ChatErrorCodes.Unauthenticated);
    }

    [Fact]
    public async Task Refresh_rotates_and_the_old_refresh_token_is_then_rejected()
    {
        var user = await _server.NewUserAsync();
        var http = _server.NewHttp();
        var first = await http.LoginAsync(user.User.Username, user.Password);

        var second = await http.RefreshAsync(first.RefreshToken);

        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.Equal(user.Id, second.UserId);
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => http.RefreshAsync(first.RefreshToken));
        var third = await http.RefreshAsync(second.RefreshToken);
        http.AccessToken = third.AccessToken;
        Assert.Equal(user.Id, (await http.GetUserAsync(user.Id)).UserId);
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => http.RefreshAsync("garbage"));
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => http.RefreshAsync(second.RefreshToken));
    }

    [Fact]
    public async Task Logout_revokes_only_this_login_and_closes_its_sockets_with_token_revoked()
    {
        var user = await _server.NewUserAsync();
        var other = _server.NewHttp();
        var otherLogin = await other.LoginAsync(user.User.Username, user.Password);
        var refreshed = await user.Http.RefreshAsync(user.Login.RefreshToken);
        user.Http.AccessToken = user.Login.AccessToken; // an access token issued before the refresh, same login
        await using var revokedSocket = await user.ConnectAsync();
        await using var refreshedSocket = await _server.ConnectAsync();
        await refreshedSocket.HelloAsync(refreshed.AccessToken);
        await using var otherSocket = await _server.ConnectAsync();
        await otherSocket.HelloAsync(otherLogin.AccessToken);

        await user.Http.LogoutAsync();

        await Expect.GoodbyeThenCloseAsync(revokedSocket, "token_revoked", ChatCloseCodes.TokenExpiredOrRevoked);
        await Expect.GoodbyeThenCloseAsync(refreshedSocket, "token_revoked", ChatCloseCodes.TokenExpiredOrRevoked);
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => user.Http.GetUserAsync(user.Id));
        user.Http.AccessToken = refreshed.AccessToken;
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => user.Http.GetUserAsync(user.Id));
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => user.Http.RefreshAsync(refreshed.RefreshToken));

        Assert.Equal(user.Id, (await other.GetUserAsync(user.Id)).UserId);
        Assert.Equal(user.Id, (await otherSocket.GetUserAsync(user.Id)).UserId);
        Assert.False(otherSocket.Closed.IsCompleted);
        Assert.Equal(otherLogin.UserId, (await other.RefreshAsync()).UserId);
    }

    [Fact]
    public async Task Logout_all_revokes_every_login_and_closes_every_socket()
    {
        var user = await _server.NewUserAsync();
        var second = _server.NewHttp();
        var secondLogin = await second.LoginAsync(user.User.Username, user.Password);
        await using var first = await user.ConnectAsync();
        await using var other = await _server.ConnectAsync();
        await other.HelloAsync(secondLogin.AccessToken);
        var bystander = await _server.NewUserAsync();
        await using var bystanderSocket = await bystander.ConnectAsync();

        var response = await user.Http.SendRawAsync(HttpMethod.Delete, "/v1/sessions?all=true");

        Assert.Equal(204, response.StatusCode);
        await Expect.GoodbyeThenCloseAsync(first, "token_revoked", ChatCloseCodes.TokenExpiredOrRevoked);
        await Expect.GoodbyeThenCloseAsync(other, "token_revoked", ChatCloseCodes.TokenExpiredOrRevoked);
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => user.Http.GetUserAsync(user.Id));
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => second.GetUserAsync(user.Id));
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => second.RefreshAsync());
        Assert.Equal(user.Id, (await bystanderSocket.GetUserAsync(user.Id)).UserId);

        // A revoked token cannot open a session: unauthenticated, then 4003.
        await using var late = await _server.ConnectAsync();
        var hello = await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => late.HelloAsync(secondLogin.AccessToken));
        Assert.Equal(ChatCloseCodes.TokenExpiredOrRevoked, await Expect.ClosedAsync(late));

        // A new login works again.
        var fresh = await _server.NewHttp().LoginAsync(user.User.Username, user.Password);
        Assert.Equal(user.Id, fresh.UserId);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task GetUser_finds_a_user_by_id_and_by_at_name_in_any_case(Transport transport)
    {
        var caller = await _server.NewUserAsync();
        var target = await _server.NewUserAsync("Target");
        await using var api = await ChatApi.ForAsync(caller, transport);

        var byId = await api.GetUserAsync(target.Id);
        var byName = await api.GetUserAsync("@" + target.User.Username.ToUpperInvariant());

        Assert.Equal(target.User, byId);
        Assert.Equal(target.User, byName);
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => api.GetUserAsync(Guid.CreateVersion7()));
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => api.GetUserAsync("@" + UniqueName("missing")));
    }

    [Fact]
    public async Task GetUser_over_http_with_neither_an_id_nor_an_at_name_is_invalid_argument()
    {
        var caller = await _server.NewUserAsync();

        AssertErrorShape(await caller.Http.SendRawAsync(HttpMethod.Get, "/v1/users/not-an-id"), 400, ChatErrorCodes.InvalidArgument);
    }
}
