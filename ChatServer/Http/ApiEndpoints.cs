using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ChatServer.Auth;
using ChatServer.Chat;
using ChatServer.Hosting;

namespace ChatServer.Http;

/// <summary>One HTTP route: the table that is both mapped and described in /openapi/v1.json.</summary>
internal sealed record ApiRoute(string Method, string Pattern, string Summary, bool Authenticated, RequestDelegate Handler);

/// <summary>The HTTP/JSON API of PROTOCOL.md §8: thin adapters that parse, call one service method and map its result.</summary>
internal static partial class ApiEndpoints
{
    public static readonly IReadOnlyList<ApiRoute> Routes =
    [
        new("POST", "/v1/users", "Register a user", false, RegisterAsync),
        new("POST", "/v1/sessions", "Sign in", false, LoginAsync),
        new("POST", "/v1/sessions/refresh", "Rotate a refresh token", false, RefreshAsync),
        new("DELETE", "/v1/sessions", "Sign out (this login, or ?all=true every login)", true, LogoutAsync),
        new("GET", "/v1/users/{id}", "Get a user by id or @username", true, GetUserAsync),
        new("GET", "/v1/groups", "List the caller's groups", true, ListGroupsAsync),
        new("POST", "/v1/groups", "Create a group", true, CreateGroupAsync),
        new("GET", "/v1/groups/{id}", "Get a group (?events=N: open it)", true, GetGroupAsync),
        new("PATCH", "/v1/groups/{id}", "Update a group", true, UpdateGroupAsync),
        new("POST", "/v1/sync", "Sync many groups", true, SyncAsync),
        new("POST", "/v1/groups/{id}/members", "Join (no userId) or add a member", true, AddMemberAsync),
        new("PUT", "/v1/groups/{id}/members/{userId}/role", "Set a member's role", true, SetRoleAsync),
        new("DELETE", "/v1/groups/{id}/members/{userId}", "Remove a member (own id: leave)", true, RemoveMemberAsync),
        new("GET", "/v1/groups/{id}/members", "List members", true, ListMembersAsync),
        new("GET", "/v1/groups/{id}/messages", "History", true, HistoryAsync),
        new("POST", "/v1/groups/{id}/messages", "Send a message", true, SendAsync),
        new("PATCH", "/v1/groups/{id}/messages/{seq}", "Edit a message", true, EditAsync),
        new("DELETE", "/v1/groups/{id}/messages/{seq}", "Delete a message", true, DeleteAsync),
        new("POST", "/v1/groups/{id}/read", "Mark read", true, MarkReadAsync),
        new("GET", "/healthz", "Liveness", false, HealthAsync),
        new("GET", "/readyz", "Readiness", false, ReadyAsync),
        new("GET", "/metrics", "Prometheus metrics", false, MetricsAsync),
        new("GET", "/openapi/v1.json", "This document", false, OpenApiAsync),
    ];

    public static void Map(WebApplication app)
    {
        foreach (var route in Routes)
        {
            var handler = route.Handler;
            app.MapMethods(route.Pattern, [route.Method], ctx => RunAsync(handler, ctx));
        }

        app.MapFallback(static ctx => WriteErrorAsync(ctx, ChatError.NotFound("no such route")));
    }

    /// <summary>
    /// Runs a route with the last line of the error mapping: a storage outage met outside a guarded call (a read that
    /// falls through to PostgreSQL) is <c>unavailable</c>, anything else unexpected is <c>internal</c> and logged;
    /// both as the error object, never an empty 500.
    /// </summary>
    private static async Task RunAsync(RequestDelegate handler, HttpContext ctx)
    {
        try
        {
            await handler(ctx);
        }
        catch (Storage.StorageUnavailableException ex) when (!ctx.Response.HasStarted)
        {
            await WriteErrorAsync(ctx, ChatError.Unavailable(ex.Message));
        }
        catch (Exception ex) when (!ctx.Response.HasStarted && !ctx.RequestAborted.IsCancellationRequested)
        {
            ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ChatServer.Http").LogError(ex, "{Method} {Path} failed", ctx.Request.Method, ctx.Request.Path);
            await WriteErrorAsync(ctx, ChatError.Internal("the request failed"));
        }
    }

    private static AccountService Accounts(HttpContext ctx) => ctx.RequestServices.GetRequiredService<AccountService>();

    private static GroupService Groups(HttpContext ctx) => ctx.RequestServices.GetRequiredService<GroupService>();

    private static async Task RegisterAsync(HttpContext ctx)
    {
        var body = await ReadAsync(ctx, ApiJsonContext.Default.RegisterRequest);
        if (body is null) return;
        var result = await Accounts(ctx).RegisterAsync(body.Username, body.DisplayName, body.MobileNumber, body.Password);
        await WriteAsync(ctx, result, 201, static u => UserDto.From(u), ApiJsonContext.Default.UserDto);
    }

    private static async Task LoginAsync(HttpContext ctx)
    {
        var body = await ReadAsync(ctx, ApiJsonContext.Default.LoginRequest);
        if (body is null) return;
        var result = await Accounts(ctx).LoginAsync(body.Username, body.Password);
        await WriteAsync(ctx, result, 200, static l => new LoginDto(l.AccessToken, l.RefreshToken, l.ExpiresInSeconds, l.UserId), ApiJsonContext.Default.LoginDto);
    }

    private static async Task RefreshAsync(HttpContext ctx)
    {
        var body = await ReadAsync(ctx, ApiJsonContext.Default.RefreshRequest);
        if (body is null) return;
        var result = await Accounts(ctx).RefreshAsync(body.RefreshToken);
        await WriteAsync(ctx, result, 200, static l => new LoginDto(l.AccessToken, l.RefreshToken, l.ExpiresInSeconds, l.UserId), ApiJsonContext.Default.LoginDto);
    }

    private static async Task LogoutAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        var all = ctx.Request.Query["all"] == "true";
        var result = await Accounts(ctx).LogoutAsync(caller, all);
        await WriteNoContentAsync(ctx, result);
    }

    private static async Task GetUserAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out _)) { await Unauthorized(ctx); return; }
        var result = Accounts(ctx).GetUser(ctx.Request.RouteValues["id"] as string);
        await WriteAsync(ctx, result, 200, static u => UserDto.From(u), ApiJsonContext.Default.UserDto);
    }

    private static async Task ListGroupsAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!QueryGuid(ctx, "after", out var after) || !QueryInt(ctx, "limit", out var limit)) { await BadQuery(ctx); return; }
        var result = Groups(ctx).List(caller.UserId, after, limit);
        await WriteAsync(ctx, result, 200, static p => new GroupPageDto(p.Items.Select(GroupDto.From).ToList(), p.NextCursor), ApiJsonContext.Default.GroupPageDto);
    }

    private static async Task CreateGroupAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        var body = await ReadAsync(ctx, ApiJsonContext.Default.GroupRequest);
        if (body is null) return;
        var result = await Guard(Groups(ctx).CreateAsync(caller.UserId, body.Name, body.Description, body.Private));
        await WriteAsync(ctx, result, 201, static g => GroupDto.From(g), ApiJsonContext.Default.GroupDto);
    }

    private static async Task GetGroupAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id)) { await BadRoute(ctx); return; }
        if (ctx.Request.Query.ContainsKey("events"))
        {
            if (!QueryInt(ctx, "events", out var events)) { await BadQuery(ctx); return; }
            var open = Groups(ctx).Open(caller.UserId, id, events);
            await WriteAsync(ctx, open, 200, static o => new OpenDto(GroupDto.From(o.Group), EventDto.From(o.Events), o.HasMore), ApiJsonContext.Default.OpenDto);
            return;
        }

        var result = Groups(ctx).Get(caller.UserId, id);
        await WriteAsync(ctx, result, 200, static g => GroupDto.From(g), ApiJsonContext.Default.GroupDto);
    }

    private static async Task UpdateGroupAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id)) { await BadRoute(ctx); return; }
        var body = await ReadAsync(ctx, ApiJsonContext.Default.GroupRequest);
        if (body is null) return;
        var result = await Guard(Groups(ctx).UpdateAsync(caller.UserId, id, body.Name, body.Description, body.Private));
        await WriteAsync(ctx, result, 200, static g => GroupDto.From(g), ApiJsonContext.Default.GroupDto);
    }

    private static async Task SyncAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        var body = await ReadAsync(ctx, ApiJsonContext.Default.DictionaryStringUInt64);
        if (body is null) return;
        if (body.Count > 500) { await WriteErrorAsync(ctx, ChatError.InvalidArgument("at most 500 groups per Sync")); return; }
        var positions = new Dictionary<Guid, ulong>(body.Count);
        foreach (var (key, value) in body)
        {
            if (!Guid.TryParse(key, out var gid)) { await WriteErrorAsync(ctx, ChatError.InvalidArgument($"'{key}' is not a group id")); return; }
            positions[gid] = value;
        }

        var groups = Groups(ctx);
        var result = groups.Sync(caller.UserId, positions);
        await WriteAsync(ctx, result, 200, static items => new SyncDto(items.Select(i => new SyncItemDto(i.GroupId, i.LastSeq, i.Unread, i.Newest is { } e ? EventDto.From(e) : null)).ToList()), ApiJsonContext.Default.SyncDto);
    }

    private static async Task AddMemberAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id)) { await BadRoute(ctx); return; }
        var body = ctx.Request.ContentLength is 0 || (ctx.Request.ContentLength is null && !ctx.Request.Headers.ContainsKey("Transfer-Encoding"))
            ? new MemberRequest()
            : await ReadAsync(ctx, ApiJsonContext.Default.MemberRequest);
        if (body is null) return;
        if (body.UserId is null || body.UserId == caller.UserId)
        {
            var joined = await Guard(Groups(ctx).JoinAsync(caller.UserId, id));
            await WriteAsync(ctx, joined, 200, static g => GroupDto.From(g), ApiJsonContext.Default.GroupDto);
            return;
        }

        var result = await Guard(Groups(ctx).AddMemberAsync(caller.UserId, id, body.UserId.Value));
        await WriteAsync(ctx, result, 200, static m => MemberDto.From(m), ApiJsonContext.Default.MemberDto);
    }

    private static async Task SetRoleAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id) || !RouteGuid(ctx, "userId", out var userId)) { await BadRoute(ctx); return; }
        var body = await ReadAsync(ctx, ApiJsonContext.Default.RoleRequest);
        if (body is null) return;
        var result = await Guard(Groups(ctx).SetRoleAsync(caller.UserId, id, userId, body.Role));
        await WriteAsync(ctx, result, 200, static m => MemberDto.From(m), ApiJsonContext.Default.MemberDto);
    }

    private static async Task RemoveMemberAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id) || !RouteGuid(ctx, "userId", out var userId)) { await BadRoute(ctx); return; }
        var result = await Guard(Groups(ctx).RemoveMemberAsync(caller.UserId, id, userId));
        await WriteNoContentAsync(ctx, result);
    }

    private static async Task ListMembersAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id)) { await BadRoute(ctx); return; }
        if (!QueryGuid(ctx, "after", out var after) || !QueryInt(ctx, "limit", out var limit)) { await BadQuery(ctx); return; }
        var result = Groups(ctx).ListMembers(caller.UserId, id, after, limit);
        await WriteAsync(ctx, result, 200, static p => new MemberPageDto(p.Items.Select(MemberDto.From).ToList(), p.NextCursor), ApiJsonContext.Default.MemberPageDto);
    }

    private static async Task HistoryAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id)) { await BadRoute(ctx); return; }
        if (!QueryULong(ctx, "before", out var before) || !QueryInt(ctx, "limit", out var limit)) { await BadQuery(ctx); return; }
        var result = Groups(ctx).History(caller.UserId, id, before, limit);
        await WriteAsync(ctx, result, 200, static h => new EventPageDto(EventDto.From(h.Events), h.HasMore), ApiJsonContext.Default.EventPageDto);
    }

    private static async Task SendAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id)) { await BadRoute(ctx); return; }
        var body = await ReadAsync(ctx, ApiJsonContext.Default.SendRequest);
        if (body is null) return;
        var result = await Guard(Groups(ctx).SendAsync(caller.UserId, id, body.ClientMsgId, body.Body));
        var status = result.IsOk && result.Value!.IsRetry ? 200 : 201;
        await WriteAsync(ctx, result, status, static s => new SendDto(s.Seq, s.MessageId, s.SentAtMs), ApiJsonContext.Default.SendDto);
    }

    private static async Task EditAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id) || !RouteULong(ctx, "seq", out var seq)) { await BadRoute(ctx); return; }
        var body = await ReadAsync(ctx, ApiJsonContext.Default.EditRequest);
        if (body is null) return;
        var result = await Guard(Groups(ctx).EditAsync(caller.UserId, id, seq, body.Body));
        await WriteAsync(ctx, result, 200, static s => new EditDto(s), ApiJsonContext.Default.EditDto);
    }

    private static async Task DeleteAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id) || !RouteULong(ctx, "seq", out var seq)) { await BadRoute(ctx); return; }
        var result = await Guard(Groups(ctx).DeleteAsync(caller.UserId, id, seq));
        await WriteAsync(ctx, result, 200, static s => new DeleteDto(s), ApiJsonContext.Default.DeleteDto);
    }

    private static async Task MarkReadAsync(HttpContext ctx)
    {
        if (!Authenticate(ctx, out var caller)) { await Unauthorized(ctx); return; }
        if (!RouteGuid(ctx, "id", out var id)) { await BadRoute(ctx); return; }
        var body = await ReadAsync(ctx, ApiJsonContext.Default.ReadRequest);
        if (body is null) return;
        if (body.Seq is not { } seq) { await WriteErrorAsync(ctx, ChatError.InvalidArgument("seq is required")); return; }
        var result = await Guard(Groups(ctx).MarkReadAsync(caller.UserId, id, seq, null));
        await WriteNoContentAsync(ctx, result);
    }

    private static Task HealthAsync(HttpContext ctx)
        => ctx.Response.WriteAsJsonAsync(new HealthDto("ok"), ApiJsonContext.Default.HealthDto);

    private static Task ReadyAsync(HttpContext ctx)
    {
        var store = ctx.RequestServices.GetRequiredService<Storage.StorageEngine>();
        var status = store.IsFaulted ? "write-ahead log failed"
            : store.BacklogFull ? "degraded: PostgreSQL backlog at its disk budget, changes refused"
            : store.HasPostgres && !store.PostgresHealthy ? "degraded: PostgreSQL unreachable, changes kept in the log"
            : "ready";
        ctx.Response.StatusCode = status == "ready" ? 200 : 503;
        return ctx.Response.WriteAsJsonAsync(new HealthDto(status), ApiJsonContext.Default.HealthDto);
    }

    private static Task MetricsAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return ctx.Response.WriteAsync(ctx.RequestServices.GetRequiredService<Metrics>().Render());
    }

    private static Task OpenApiAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(OpenApiDocument.Json);
    }

    private static async Task<Result<T>> Guard<T>(Task<Result<T>> operation)
    {
        try
        {
            return await operation;
        }
        catch (Storage.StorageUnavailableException ex)
        {
            return ChatError.Unavailable(ex.Message);
        }
    }

    private static bool Authenticate(HttpContext ctx, out AccessTokenClaims claims)
    {
        claims = default;
        var header = ctx.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        return Accounts(ctx).Authenticate(header.AsSpan(7).Trim(), out claims) == AuthOutcome.Ok;
    }

    private static Task Unauthorized(HttpContext ctx)
        => WriteErrorAsync(ctx, ChatError.Unauthenticated("a valid access token is required (Authorization: Bearer)"));

    private static Task BadQuery(HttpContext ctx) => WriteErrorAsync(ctx, ChatError.InvalidArgument("invalid query parameter"));

    private static Task BadRoute(HttpContext ctx) => WriteErrorAsync(ctx, ChatError.InvalidArgument("invalid id or seq in the path"));

    private static bool RouteGuid(HttpContext ctx, string name, out Guid value)
        => Guid.TryParse(ctx.Request.RouteValues[name] as string, out value);

    private static bool RouteULong(HttpContext ctx, string name, out ulong value)
        => ulong.TryParse(ctx.Request.RouteValues[name] as string, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);

    private static bool QueryGuid(HttpContext ctx, string name, out Guid? value)
    {
        value = null;
        var text = ctx.Request.Query[name].ToString();
        if (text.Length == 0) return true;
        if (!Guid.TryParse(text, out var g)) return false;
        value = g;
        return true;
    }

    private static bool QueryInt(HttpContext ctx, string name, out int? value)
    {
        value = null;
        var text = ctx.Request.Query[name].ToString();
        if (text.Length == 0) return true;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)) return false;
        value = n;
        return true;
    }

    private static bool QueryULong(HttpContext ctx, string name, out ulong? value)
    {
        value = null;
        var text = ctx.Request.Query[name].ToString();
        if (text.Length == 0) return true;
        if (!ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)) return false;
        value = n;
        return true;
    }

    /// <summary>Reads a JSON body; on malformed input writes invalid_argument and returns null.</summary>
    private static async Task<T?> ReadAsync<T>(HttpContext ctx, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(ctx.Request.Body, type, ctx.RequestAborted);
            if (value is null) await WriteErrorAsync(ctx, ChatError.InvalidArgument("a JSON object body is required"));
            return value;
        }
        catch (JsonException ex)
        {
            await WriteErrorAsync(ctx, ChatError.InvalidArgument($"malformed JSON body: {ex.Message}"));
            return null;
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            await WriteErrorAsync(ctx, ex.StatusCode == 413 ? ChatError.TooLarge("request body too large") : ChatError.InvalidArgument(ex.Message));
            return null;
        }
    }

    private static Task WriteAsync<T, TDto>(HttpContext ctx, Result<T> result, int status, Func<T, TDto> map, JsonTypeInfo<TDto> type)
    {
        if (!result.IsOk) return WriteErrorAsync(ctx, result.Error!);
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(map(result.Value!), type);
    }

    private static Task WriteNoContentAsync<T>(HttpContext ctx, Result<T> result)
    {
        if (!result.IsOk) return WriteErrorAsync(ctx, result.Error!);
        ctx.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    /// <summary>The one place errors become HTTP: status, Retry-After for 429, and the {code,title,status,detail,retryAfterMs} body.</summary>
    public static Task WriteErrorAsync(HttpContext ctx, ChatError error)
    {
        ctx.Response.StatusCode = error.Status;
        if (error.RetryAfterMs is { } ms)
        {
            ctx.Response.Headers.RetryAfter = Math.Max(1, (ms + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ctx.Response.WriteAsJsonAsync(new ErrorDto(error.Code, error.Title, error.Status, error.Detail, error.RetryAfterMs), ApiJsonContext.Default.ErrorDto);
    }
}
