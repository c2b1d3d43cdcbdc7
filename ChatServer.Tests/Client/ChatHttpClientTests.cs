using ChatServer.Client;
using ChatServer.Tests.Client.Support;

namespace ChatServer.Tests.Client;

public sealed class ChatHttpClientTests : IDisposable
{
    private const string GroupId = "0190a8b2-7c3d-7e4f-8a5b-6c7d8e9fa0b1";
    private const string UserA = "0190a8b2-0000-7000-8000-00000000000a";
    private const string UserB = "0190a8b2-0000-7000-8000-00000000000b";

    private const string GroupJson = $$"""
        {"groupId":"{{GroupId}}","name":"Team","description":"Our team","private":true,"ownerId":"{{UserA}}",
         "createdAtMs":1764400000000,"memberCount":3,"lastSeq":42,"myRole":"owner","myReadSeq":40,"unread":2,"future":[1]}
        """;

    private const string MessageJson = $$"""
        {"groupId":"{{GroupId}}","seq":7,"kind":1,"actorId":"{{UserA}}","atMs":1764400000007,"clientMsgId":"c-1",
         "body":"hi","targetSeq":null,"editedAtMs":null,"deleted":false,"byUserId":null}
        """;

    private readonly StubHttpHandler _handler = new();
    private readonly HttpClient _http;
    private readonly ChatHttpClient _client;

    public ChatHttpClientTests()
    {
        _http = new HttpClient(_handler);
        _client = new ChatHttpClient(_http, new Uri("http://chat.test"));
    }

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Register_posts_the_fields_and_leaves_out_a_missing_mobile_number()
    {
        _handler.Respond(201, $$"""{"userId":"{{UserA}}","username":"alice","displayName":"Alice"}""");

        User user = await _client.RegisterAsync("alice", "Alice", "correct horse");

        Assert.Equal(new User(Guid.Parse(UserA), "alice", "Alice"), user);
        Assert.Equal(HttpMethod.Post, _handler.Last.Method);
        Assert.Equal("/v1/users", _handler.Last.PathAndQuery);
        Assert.Equal("application/json", _handler.Last.ContentType);
        Assert.Equal("""{"username":"alice","displayName":"Alice","password":"correct horse"}""", _handler.Last.Body);
    }

    [Fact]
    public async Task A_success_status_other_than_the_contracts_is_a_protocol_error()
    {
        _handler.Respond(200, $$"""{"userId":"{{UserA}}","username":"alice","displayName":"Alice"}""");

        ChatProtocolException error = await Assert.ThrowsAsync<ChatProtocolException>(
            () => _client.RegisterAsync("alice", "Alice", "correct horse", "+15551234"));
        Assert.Contains("201", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"mobileNumber\":\"+15551234\"", _handler.Last.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_remembers_the_tokens_and_later_requests_send_the_bearer_token()
    {
        _handler
            .Respond(200, $$"""{"accessToken":"at","refreshToken":"rt","expiresIn":900,"userId":"{{UserA}}"}""")
            .Respond(204);

        LoginResult login = await _client.LoginAsync("alice", "pw");
        await _client.LeaveGroupAsync(Guid.Parse(GroupId));

        Assert.Equal(new LoginResult("at", "rt", 900, Guid.Parse(UserA)), login);
        Assert.Null(_handler.Requests[0].Authorization);
        Assert.Equal("Bearer at", _handler.Last.Authorization);
        Assert.Equal(HttpMethod.Delete, _handler.Last.Method);
        Assert.Equal($"/v1/groups/{GroupId}/members/{UserA}", _handler.Last.PathAndQuery);
    }

    [Fact]
    public async Task Refresh_sends_the_remembered_refresh_token_and_rotates_it()
    {
        _client.RefreshToken = "rt-1";
        _handler.Respond(200, $$"""{"accessToken":"at-2","refreshToken":"rt-2","expiresIn":900,"userId":"{{UserA}}"}""");

        await _client.RefreshAsync();

        Assert.Equal("""{"refreshToken":"rt-1"}""", _handler.Last.Body);
        Assert.Equal(("at-2", "rt-2"), (_client.AccessToken, _client.RefreshToken));
    }

    [Fact]
    public async Task Logout_of_every_login_adds_all_true()
    {
        _handler.Respond(204);

        await _client.LogoutAsync(all: true);

        Assert.Equal("/v1/sessions?all=true", _handler.Last.PathAndQuery);
    }

    [Fact]
    public async Task An_error_body_becomes_an_api_exception_with_every_field()
    {
        _handler.Respond(429, """{"code":"rate_limited","title":"Too many","status":429,"detail":"send rate","retryAfterMs":1200}""");

        ChatApiException error = await Assert.ThrowsAsync<ChatApiException>(
            () => _client.SendAsync(Guid.Parse(GroupId), "c-1", "hi"));

        Assert.Equal(ChatErrorCodes.RateLimited, error.Code);
        Assert.Equal("Too many", error.Title);
        Assert.Equal(429, error.Status);
        Assert.Equal("send rate", error.Detail);
        Assert.Equal(1200, error.RetryAfterMs);
    }

    [Fact]
    public async Task An_error_body_with_nulls_becomes_an_api_exception()
    {
        _handler.Respond(404, """{"code":"not_found","title":"No such group","status":404,"detail":null,"retryAfterMs":null}""");

        ChatApiException error = await Assert.ThrowsAsync<ChatApiException>(() => _client.GetGroupAsync(Guid.Parse(GroupId)));

        Assert.Equal((ChatErrorCodes.NotFound, 404, (string?)null, (long?)null), (error.Code, error.Status, error.Detail, error.RetryAfterMs));
    }

    [Theory]
    [InlineData(404, "")]
    [InlineData(400, "oops")]
    [InlineData(400, """{"code":"invalid_argument","title":"x","status":400}""")]
    [InlineData(400, """{"code":"invalid_argument","title":"x","status":422,"detail":null,"retryAfterMs":null}""")]
    public async Task An_error_response_that_is_not_the_error_object_is_a_protocol_error(int status, string body)
    {
        _handler.Respond(status, body);

        await Assert.ThrowsAsync<ChatProtocolException>(() => _client.GetGroupAsync(Guid.Parse(GroupId)));
    }

    [Fact]
    public async Task Get_group_decodes_the_private_key_and_ignores_unknown_keys()
    {
        _handler.Respond(200, GroupJson);

        Group group = await _client.GetGroupAsync(Guid.Parse(GroupId));

        Assert.True(group.IsPrivate);
        Assert.Equal(ChatRoles.Owner, group.MyRole);
        Assert.Equal((42L, 40L, 2L), (group.LastSeq, group.MyReadSeq, group.Unread));
        Assert.Equal($"/v1/groups/{GroupId}", _handler.Last.PathAndQuery);
    }

    [Fact]
    public async Task A_record_missing_a_key_is_a_protocol_error()
    {
        _handler.Respond(200, GroupJson.Replace("\"myRole\":\"owner\",", "", StringComparison.Ordinal));

        await Assert.ThrowsAsync<ChatProtocolException>(() => _client.GetGroupAsync(Guid.Parse(GroupId)));
    }

    [Fact]
    public async Task A_required_string_that_is_null_is_a_protocol_error()
    {
        _handler.Respond(200, GroupJson.Replace("\"name\":\"Team\"", "\"name\":null", StringComparison.Ordinal));

        await Assert.ThrowsAsync<ChatProtocolException>(() => _client.GetGroupAsync(Guid.Parse(GroupId)));
    }

    [Fact]
    public async Task Update_group_sends_only_the_keys_that_change()
    {
        _handler.Respond(200, GroupJson).Respond(200, GroupJson);

        await _client.UpdateGroupAsync(Guid.Parse(GroupId), description: "");
        string first = _handler.Last.Body!;
        await _client.UpdateGroupAsync(Guid.Parse(GroupId), name: "New", isPrivate: false);

        Assert.Equal(HttpMethod.Patch, _handler.Last.Method);
        Assert.Equal("""{"description":""}""", first);
        Assert.Equal("""{"name":"New","private":false}""", _handler.Last.Body);
    }

    [Fact]
    public async Task Create_group_posts_name_and_the_given_options()
    {
        _handler.Respond(201, GroupJson);

        await _client.CreateGroupAsync("Team", isPrivate: true);

        Assert.Equal("""{"name":"Team","private":true}""", _handler.Last.Body);
    }

    [Fact]
    public async Task Open_asks_for_events_and_decodes_group_events_and_has_more()
    {
        _handler.Respond(200, $$"""{"group":{{GroupJson}},"events":[{{MessageJson}}],"hasMore":true}""");

        OpenResult open = await _client.OpenGroupAsync(Guid.Parse(GroupId), 20);

        Assert.Equal($"/v1/groups/{GroupId}?events=20", _handler.Last.PathAndQuery);
        Assert.Equal("Team", open.Group.Name);
        GroupEvent message = Assert.Single(open.Events);
        Assert.Equal(new GroupEvent(Guid.Parse(GroupId), 7, EventKind.Message, Guid.Parse(UserA), 1764400000007, "c-1", "hi", null, null, false, null), message);
        Assert.True(open.HasMore);
    }

    [Fact]
    public async Task History_sends_before_and_limit_and_reads_items()
    {
        _handler.Respond(200, $$"""{"items":[{{MessageJson}}],"hasMore":false}""");

        HistoryResult history = await _client.HistoryAsync(Guid.Parse(GroupId), before: 8, limit: 1);

        Assert.Equal($"/v1/groups/{GroupId}/messages?before=8&limit=1", _handler.Last.PathAndQuery);
        Assert.Equal(7, Assert.Single(history.Events).Seq);
        Assert.False(history.HasMore);
    }

    [Fact]
    public async Task List_groups_and_members_send_cursor_and_limit()
    {
        _handler
            .Respond(200, $$"""{"items":[{{GroupJson}}],"nextCursor":"{{GroupId}}"}""")
            .Respond(200, $$"""{"items":[{"userId":"{{UserB}}","displayName":"Bob","role":"member","joinedAtMs":1,"readSeq":3}],"nextCursor":null}""");

        Page<Group> groups = await _client.ListGroupsAsync(Guid.Parse(UserA), 1);
        string groupsPath = _handler.Last.PathAndQuery;
        Page<Member> members = await _client.ListMembersAsync(Guid.Parse(GroupId), limit: 5);

        Assert.Equal($"/v1/groups?after={UserA}&limit=1", groupsPath);
        Assert.Equal(Guid.Parse(GroupId), groups.NextCursor);
        Assert.Equal($"/v1/groups/{GroupId}/members?limit=5", _handler.Last.PathAndQuery);
        Assert.Equal(new Member(Guid.Parse(UserB), "Bob", ChatRoles.Member, 1, 3), Assert.Single(members.Items));
        Assert.Null(members.NextCursor);
    }

    [Fact]
    public async Task Sync_posts_the_map_of_lower_case_ids_and_reads_items()
    {
        _handler.Respond(200, $$"""{"items":[{"groupId":"{{GroupId}}","lastSeq":42,"unread":2,"newestEvent":{{MessageJson}}}]}""");

        IReadOnlyList<SyncItem> items = await _client.SyncAsync(new Dictionary<Guid, long> { [Guid.Parse(GroupId)] = 40 });

        Assert.Equal($$"""{"{{GroupId}}":40}""", _handler.Last.Body);
        SyncItem item = Assert.Single(items);
        Assert.Equal((42L, 2L, 7L), (item.LastSeq, item.Unread, item.NewestEvent.Seq));
    }

    [Theory]
    [InlineData(201, true)]
    [InlineData(200, false)]
    public async Task Send_reports_whether_the_message_was_created_or_replayed(int status, bool created)
    {
        _handler.Respond(status, $$"""{"seq":43,"messageId":"{{UserB}}","sentAtMs":1764400000000}""");

        (SendResult result, bool wasCreated) = await _client.SendAsync(Guid.Parse(GroupId), "c-1", "hi");

        Assert.Equal(new SendResult(43, Guid.Parse(UserB), 1764400000000), result);
        Assert.Equal(created, wasCreated);
        Assert.Equal("""{"clientMsgId":"c-1","body":"hi"}""", _handler.Last.Body);
    }

    [Fact]
    public async Task Edit_delete_and_mark_read_use_their_routes()
    {
        _handler.Respond(200, """{"editSeq":44}""").Respond(200, """{"deleteSeq":45}""").Respond(204);

        long editSeq = await _client.EditAsync(Guid.Parse(GroupId), 7, "fixed");
        long deleteSeq = await _client.DeleteAsync(Guid.Parse(GroupId), 7);
        await _client.MarkReadAsync(Guid.Parse(GroupId), 45);

        Assert.Equal((44L, 45L), (editSeq, deleteSeq));
        Assert.Equal(
            [$"PATCH /v1/groups/{GroupId}/messages/7", $"DELETE /v1/groups/{GroupId}/messages/7", $"POST /v1/groups/{GroupId}/read"],
            _handler.Requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
        Assert.Equal("""{"seq":45}""", _handler.Last.Body);
    }

    [Fact]
    public async Task Join_add_member_and_set_role_use_the_members_routes()
    {
        string memberJson = $$"""{"userId":"{{UserB}}","displayName":"Bob","role":"admin","joinedAtMs":1,"readSeq":3}""";
        _handler.Respond(200, GroupJson).Respond(200, memberJson).Respond(200, memberJson);

        await _client.JoinGroupAsync(Guid.Parse(GroupId));
        string joinBody = _handler.Last.Body!;
        await _client.AddMemberAsync(Guid.Parse(GroupId), Guid.Parse(UserB));
        string addBody = _handler.Last.Body!;
        Member member = await _client.SetRoleAsync(Guid.Parse(GroupId), Guid.Parse(UserB), ChatRoles.Admin);

        Assert.Equal("{}", joinBody);
        Assert.Equal($$"""{"userId":"{{UserB}}"}""", addBody);
        Assert.Equal(HttpMethod.Put, _handler.Last.Method);
        Assert.Equal($"/v1/groups/{GroupId}/members/{UserB}/role", _handler.Last.PathAndQuery);
        Assert.Equal("""{"role":"admin"}""", _handler.Last.Body);
        Assert.Equal(ChatRoles.Admin, member.Role);
    }

    [Fact]
    public async Task Get_user_by_name_uses_the_at_path()
    {
        _handler.Respond(200, $$"""{"userId":"{{UserB}}","username":"bob","displayName":"Bob"}""");

        await _client.GetUserAsync("@bob");

        Assert.Equal("/v1/users/@bob", _handler.Last.PathAndQuery);
    }

    [Fact]
    public async Task Send_raw_returns_status_body_and_headers_without_throwing()
    {
        _client.AccessToken = "at";
        _handler.Respond(
            429,
            """{"code":"rate_limited","title":"Too many","status":429,"detail":null,"retryAfterMs":2000}""",
            r => r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(2)));

        RawHttpResponse response = await _client.SendRawAsync(HttpMethod.Post, $"/v1/groups/{GroupId}/messages", "{\"body\":");
        (int status, string body) = response;

        Assert.Equal(429, status);
        Assert.Contains("rate_limited", body, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
        Assert.Equal(2000, response.ReadError().RetryAfterMs);
        Assert.Equal("{\"body\":", _handler.Last.Body);
        Assert.Equal("Bearer at", _handler.Last.Authorization);
    }

    [Fact]
    public async Task Leave_group_without_a_known_user_id_is_refused_locally()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.LeaveGroupAsync(Guid.Parse(GroupId)));
        Assert.Empty(_handler.Requests);
    }
}
