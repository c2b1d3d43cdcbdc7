using ChatServer.Client;
using ChatServer.Storage;
using ChatServer.Storage.Postgres;
using ChatServer.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatServer.Tests.Postgres;

/// <summary>PostgreSQL as the system of record: write-through, write-behind from the log, fall-through reads, cold start.</summary>
[Collection("postgres")]
public sealed class PostgresSystemOfRecordTests
{
    private static readonly string[] HostileBodies =
    [
        "it's \"quoted\" and 'single' -- ; DROP TABLE users;",
        "back\\slash \\n not a newline \\\\ and \\x00 text",
        "emoji 🎉👩‍👩‍👧‍👦 and astral 𝄞",
        "RTL \u200f\u202eעברית\u202c and mixed العربية",
        "tab\tnewline\nCR\r end",
        "zero width \u200b\u200c\u200d joiners",
    ];

    private static Dictionary<string, string?> Settings(PostgresDatabase db, Dictionary<string, string?>? extra = null)
    {
        var s = new Dictionary<string, string?> { ["Postgres:ConnectionString"] = db.ConnectionString };
        if (extra is not null)
        {
            foreach (var (k, v) in extra) s[k] = v;
        }

        return s;
    }

    private static Task WaitForDrainAsync(PostgresDatabase db, Guid groupId, long lastSeq)
        => PostgresDatabase.WaitUntilAsync(
            async () => await db.ScalarAsync($"SELECT count(*) FROM group_events WHERE group_id = '{groupId}'") == lastSeq,
            TimeSpan.FromSeconds(30), $"{lastSeq} events of {groupId} in PostgreSQL");

    [Fact]
    public async Task Everything_sent_is_in_postgres_after_drain_byte_exact_including_hostile_text()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var server = await TestServer.StartAsync(Settings(db));
        var alice = await server.NewUserAsync("alice");
        var group = await alice.Http.CreateGroupAsync("hostile", "desc 'with' \"quotes\" \\ 🎉");
        var acked = new List<(long Seq, string Body)>();
        for (var i = 0; i < HostileBodies.Length; i++)
        {
            var (result, _) = await alice.Http.SendAsync(group.GroupId, $"h-{i}", HostileBodies[i]);
            acked.Add((result.Seq, HostileBodies[i]));
        }

        await WaitForDrainAsync(db, group.GroupId, acked[^1].Seq);
        foreach (var (seq, body) in acked)
        {
            var rows = await db.RowsAsync($"SELECT body, kind FROM group_events WHERE group_id = '{group.GroupId}' AND seq = {seq}");
            Assert.Single(rows);
            Assert.Equal(body, (string)rows[0][0]!);
            Assert.Equal((short)1, (short)rows[0][1]!);
        }

        var description = await db.RowsAsync($"SELECT description FROM groups WHERE id = '{group.GroupId}'");
        Assert.Equal("desc 'with' \"quotes\" \\ 🎉", (string)description[0][0]!);

        var nul = await Assert.ThrowsAsync<ChatApiException>(() => alice.Http.SendAsync(group.GroupId, "nul", "a\0b"));
        Assert.Equal("invalid_argument", nul.Code);
    }

    [Fact]
    public async Task Registration_and_membership_are_written_through_before_the_reply()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var server = await TestServer.StartAsync(Settings(db));
        var alice = await server.NewUserAsync("alice");
        var bob = await server.NewUserAsync("bob");
        Assert.Equal(1, await db.ScalarAsync($"SELECT count(*) FROM users WHERE id = '{alice.Id}'"));
        Assert.Equal(1, await db.ScalarAsync($"SELECT count(*) FROM logins WHERE user_id = '{alice.Id}'"));

        var group = await alice.Http.CreateGroupAsync("team");
        await alice.Http.AddMemberAsync(group.GroupId, bob.Id);
        await alice.Http.SetRoleAsync(group.GroupId, bob.Id, "admin");
        Assert.Equal(2, await db.ScalarAsync($"SELECT count(*) FROM group_members WHERE group_id = '{group.GroupId}'"));
        Assert.Equal(1, await db.ScalarAsync($"SELECT role FROM group_members WHERE group_id = '{group.GroupId}' AND user_id = '{bob.Id}'"));
        Assert.Equal(3, await db.ScalarAsync($"SELECT count(*) FROM group_events WHERE group_id = '{group.GroupId}'"));

        var taken = await Assert.ThrowsAsync<ChatApiException>(() => server.NewHttp().RegisterAsync(alice.User.Username.ToUpperInvariant(), "Other", "password123"));
        Assert.Equal("conflict", taken.Code);
    }

    [Fact]
    public async Task The_drain_never_moves_written_through_rows_back_and_only_raises_read_positions()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var pg = new PgDatabase(db.ConnectionString, NullLogger<PgDatabase>.Instance);
        await pg.MigrateAsync();
        var (owner, bob, groupId, loginId, node) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        Mutation Member(byte role, ulong readSeq) => new(StoreKeys.ForMember(groupId, bob), RecordCodec.Encode(new MemberRecord(groupId, bob, role, 10, readSeq)));
        Mutation Login(bool revoked) => new(StoreKeys.ForLogin(loginId), RecordCodec.Encode(new LoginRecord(loginId, bob, [1, 2, 3], 100, 1, revoked, revoked ? 50 : 0)));
        Mutation Group(string name) => new(StoreKeys.ForGroup(groupId), RecordCodec.Encode(new GroupRecord(groupId, name, "", false, owner, 1)));
        string Where(string table, string column) => $"SELECT {column} FROM {table} WHERE " + (table == "logins" ? $"id = '{loginId}'" : table == "groups" ? $"id = '{groupId}'" : $"group_id = '{groupId}' AND user_id = '{bob}'");

        // Written through: bob is an admin who has read up to 3, his login is revoked, the group is renamed.
        Assert.True(await pg.WriteThroughAsync([Group("renamed"), Member(Roles.Admin, 3), Login(revoked: true)]));

        // The drainer then applies older logged states of the same rows (bob a member, login live, old name), with a
        // newer read position: only the read position moves, and only up.
        await pg.DrainAsync(node, [[Group("original"), Member(Roles.Member, 7), Login(revoked: false)]], 1, CancellationToken.None);
        Assert.Equal(Roles.Admin, await db.ScalarAsync(Where("group_members", "role")));
        Assert.Equal(7, await db.ScalarAsync(Where("group_members", "read_seq")));
        Assert.Equal(1, await db.ScalarAsync(Where("logins", "revoked::int")));
        Assert.Equal(1, await db.ScalarAsync(Where("groups", "(name = 'renamed')::int")));
        await pg.DrainAsync(node, [[Member(Roles.Member, 2)]], 2, CancellationToken.None);
        Assert.Equal(7, await db.ScalarAsync(Where("group_members", "read_seq")));

        // A member removed by write-through is not brought back by a drained read position.
        Assert.True(await pg.WriteThroughAsync([new Mutation(StoreKeys.ForMember(groupId, bob), null)]));
        await pg.DrainAsync(node, [[Member(Roles.Member, 9)]], 3, CancellationToken.None);
        Assert.Equal(0, await db.ScalarAsync($"SELECT count(*) FROM group_members WHERE group_id = '{groupId}'"));
        Assert.Equal(3, await pg.ReadDrainPositionAsync(node, CancellationToken.None));
    }

    [Fact]
    public async Task Draining_the_same_log_range_twice_leaves_no_duplicates()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var data = TestServer.NewDataDirectory();
        var settings = Settings(db, new() { ["Storage:CheckpointIntervalSeconds"] = "3600" });
        await using var server = new ServerProcess(data, settings);
        await server.StartAsync();
        var http = server.NewHttp();
        await http.RegisterAsync("redrain", "Re Drain", "password123");
        http.AccessToken = (await http.LoginAsync("redrain", "password123")).AccessToken;
        var group = await http.CreateGroupAsync("replayed");
        for (var i = 0; i < 50; i++) await http.SendAsync(group.GroupId, $"r-{i}", $"message {i}");
        var (edit, _) = await http.SendAsync(group.GroupId, "to-edit", "before");
        await http.EditAsync(group.GroupId, edit.Seq, "after");
        var last = (await http.GetGroupAsync(group.GroupId)).LastSeq;
        await WaitForDrainAsync(db, group.GroupId, last);

        // SIGKILL (no shutdown checkpoint, so the log keeps everything), rewind the confirmed position,
        // and restart: the whole log drains a second time over rows PostgreSQL already holds.
        server.Kill();
        await db.ExecAsync("UPDATE drain_positions SET wal_address = 0");
        await server.StartAsync();
        await PostgresDatabase.WaitUntilAsync(
            async () => await db.ScalarAsync("SELECT min(wal_address) FROM drain_positions") > 0,
            TimeSpan.FromSeconds(30), "the second drain");

        Assert.Equal(last, await db.ScalarAsync($"SELECT count(*) FROM group_events WHERE group_id = '{group.GroupId}'"));
        Assert.Equal(last, await db.ScalarAsync($"SELECT count(DISTINCT seq) FROM group_events WHERE group_id = '{group.GroupId}'"));
        Assert.Equal(1, await db.ScalarAsync($"SELECT count(*) FROM group_events WHERE group_id = '{group.GroupId}' AND body = 'after' AND kind = 1"));
        Assert.Equal(1, await db.ScalarAsync("SELECT count(*) FROM users WHERE username = 'redrain'"));
        await server.StopAsync();
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task Sends_are_acknowledged_through_a_postgres_outage_and_drain_exactly_once_after_it()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var server = await TestServer.StartAsync(Settings(db));
        var alice = await server.NewUserAsync("alice");
        var group = await alice.Http.CreateGroupAsync("outage");
        await using var socket = await alice.ConnectAsync();
        var acked = new Dictionary<long, string>();
        PostgresDatabase.StopServer();
        try
        {
            for (var i = 0; i < 2000; i++)
            {
                var body = $"during outage {i} 'x' \\ 🎉";
                var result = await socket.SendAsync(group.GroupId, $"o-{i}", body);
                acked[result.Seq] = body;
            }

            using var http = new HttpClient();
            var ready = await http.GetAsync(new Uri(server.HttpUri, "/readyz"));
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var metrics = await http.GetStringAsync(new Uri(server.HttpUri, "/metrics"));
            Assert.Contains("chat_postgres_backlog_events", metrics, StringComparison.Ordinal);
        }
        finally
        {
            PostgresDatabase.StartServer();
        }

        var last = acked.Keys.Max();
        await WaitForDrainAsync(db, group.GroupId, last);
        var rows = await db.RowsAsync($"SELECT seq, body FROM group_events WHERE group_id = '{group.GroupId}' AND kind = 1 ORDER BY seq");
        Assert.Equal(acked.Count, rows.Count);
        foreach (var row in rows) Assert.Equal(acked[(long)row[0]!], (string)row[1]!);
    }

    [Fact]
    public async Task A_crash_during_the_drain_loses_and_duplicates_nothing()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var data = TestServer.NewDataDirectory();
        await using var server = new ServerProcess(data, Settings(db, new() { ["Postgres:DrainBatchEntries"] = "50" }));
        await server.StartAsync();
        var http = server.NewHttp();
        await http.RegisterAsync("crashdrain", "Crash Drain", "password123");
        http.AccessToken = (await http.LoginAsync("crashdrain", "password123")).AccessToken;
        var group = await http.CreateGroupAsync("crash");
        var acked = new Dictionary<long, string>();
        using var stop = new CancellationTokenSource();
        var sends = Enumerable.Range(0, 8).Select(async w =>
        {
            for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
            {
                var body = $"w{w} m{i}";
                try
                {
                    var (result, _) = await http.SendAsync(group.GroupId, $"w{w}-{i}", body);
                    lock (acked) acked[result.Seq] = body;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return;
                }
            }
        }).ToList();

        // Kill while sends and drains are in flight.
        await PostgresDatabase.WaitUntilAsync(async () =>
        {
            lock (acked) if (acked.Count < 300) return false;
            return await db.ScalarAsync($"SELECT count(*) FROM group_events WHERE group_id = '{group.GroupId}'") > 50;
        }, TimeSpan.FromSeconds(30), "sends and drains in flight");
        server.Kill();
        await stop.CancelAsync();
        await Task.WhenAll(sends);
        await server.StartAsync();
        var http2 = server.NewHttp();
        http2.AccessToken = (await http2.LoginAsync("crashdrain", "password123")).AccessToken;
        var last = (await http2.GetGroupAsync(group.GroupId)).LastSeq;
        Assert.True(last >= acked.Keys.Max());
        await WaitForDrainAsync(db, group.GroupId, last);
        var rows = await db.RowsAsync($"SELECT seq, body FROM group_events WHERE group_id = '{group.GroupId}' AND kind = 1 ORDER BY seq");
        var bySeq = rows.ToDictionary(r => (long)r[0]!, r => (string)r[1]!);
        foreach (var (seq, body) in acked) Assert.Equal(body, bySeq[seq]);
        Assert.Equal(rows.Count, rows.Select(r => (string)r[1]!).Distinct().Count());
        await server.StopAsync();
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task A_node_with_an_empty_data_directory_serves_everything_from_postgres()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        Guid groupId;
        TestUser alice;
        string bobName;
        long lastSeq;
        await using (var first = await TestServer.StartAsync(Settings(db, new() { ["Auth:SigningKey"] = Convert.ToBase64String(new byte[32]) })))
        {
            alice = await first.NewUserAsync("alice");
            var bob = await first.NewUserAsync("bob");
            bobName = bob.User.Username;
            var group = await alice.Http.CreateGroupAsync("cold", "starts from postgres");
            groupId = group.GroupId;
            await bob.Http.JoinGroupAsync(groupId);
            for (var i = 0; i < 30; i++) await alice.Http.SendAsync(groupId, $"c-{i}", $"cold {i}");
            lastSeq = (await alice.Http.GetGroupAsync(groupId)).LastSeq;
            await WaitForDrainAsync(db, groupId, lastSeq);
        }

        await using var second = await TestServer.StartAsync(Settings(db, new() { ["Auth:SigningKey"] = Convert.ToBase64String(new byte[32]) }));
        var http = second.NewHttp();
        var login = await http.LoginAsync(bobName, "password123");
        http.AccessToken = login.AccessToken;
        var seen = await http.GetGroupAsync(groupId);
        Assert.Equal(lastSeq, seen.LastSeq);
        Assert.Equal(2, seen.MemberCount);
        Assert.Equal("member", seen.MyRole);
        var history = await http.HistoryAsync(groupId, null, 100);
        Assert.Equal(Enumerable.Range(1, (int)lastSeq).Select(i => (long)i), history.Events.Select(e => e.Seq));
        Assert.Equal("cold 29", history.Events[^1].Body);
        var members = await http.ListMembersAsync(groupId);
        Assert.Equal(2, members.Items.Count);

        // The next seq continues, and a retried send of an old message is still idempotent.
        var (next, created) = await http.SendAsync(groupId, "after-cold", "next");
        Assert.True(created);
        Assert.Equal(lastSeq + 1, next.Seq);
        var aliceHttp = second.NewHttp();
        aliceHttp.AccessToken = (await aliceHttp.LoginAsync(alice.User.Username, "password123")).AccessToken;
        var (retry, retryCreated) = await aliceHttp.SendAsync(groupId, "c-3", "changed body");
        Assert.False(retryCreated);
        Assert.Equal(history.Events.Single(e => e.ClientMsgId == "c-3").Seq, retry.Seq);
    }
    [Fact]
    public async Task Past_the_backlog_budget_sends_get_unavailable_never_a_silent_drop()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var server = await TestServer.StartAsync(Settings(db, new() { ["Postgres:BacklogBudgetMiB"] = "1" }));
        var alice = await server.NewUserAsync("alice");
        var group = await alice.Http.CreateGroupAsync("budget");
        await using var socket = await alice.ConnectAsync();
        var body = new string('x', 2000);
        var acked = new List<long>();
        ChatApiException? refused = null;
        PostgresDatabase.StopServer();
        try
        {
            for (var i = 0; i < 5000 && refused is null; i++)
            {
                try
                {
                    acked.Add((await socket.SendAsync(group.GroupId, $"b-{i}", body)).Seq);
                }
                catch (ChatApiException ex)
                {
                    refused = ex;
                }
            }

            using var http = new HttpClient();
            var ready = await http.GetAsync(new Uri(server.HttpUri, "/readyz"));
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        finally
        {
            PostgresDatabase.StartServer();
        }

        Assert.NotNull(refused);
        Assert.Equal("unavailable", refused!.Code);
        Assert.True(acked.Count > 100, $"only {acked.Count} sends were acknowledged before the budget");

        // Once PostgreSQL is back the backlog drains and sends are accepted again; every acknowledged one is there.
        await WaitForDrainAsync(db, group.GroupId, acked[^1]);
        var next = await socket.SendAsync(group.GroupId, "after-budget", "accepted again");
        Assert.Equal(acked[^1] + 1, next.Seq);
        var rows = await db.RowsAsync($"SELECT seq, client_msg_id FROM group_events WHERE group_id = '{group.GroupId}' AND kind = 1 AND client_msg_id LIKE 'b-%' ORDER BY seq");
        Assert.True(acked.Count == rows.Count, $"acked {acked.Count} (last seq {acked[^1]}), in PostgreSQL {rows.Count}: last rows {string.Join(", ", rows.TakeLast(3).Select(r => $"{r[0]}:{r[1]}"))}");
    }

    [Fact]
    public async Task History_that_must_read_through_during_an_outage_is_unavailable_and_the_socket_stays_open()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var server = await TestServer.StartAsync(Settings(db, new() { ["Postgres:HotEventsPerGroup"] = "5" }));
        var alice = await server.NewUserAsync("alice");
        var group = await alice.Http.CreateGroupAsync("outage reads");
        for (var i = 0; i < 30; i++) await alice.Http.SendAsync(group.GroupId, $"r-{i}", $"read {i}");
        var last = (await alice.Http.GetGroupAsync(group.GroupId)).LastSeq;
        await WaitForDrainAsync(db, group.GroupId, last);
        Assert.Equal("read 0", (await alice.Http.HistoryAsync(group.GroupId, 3, 10)).Events[^1].Body);
        await using var socket = await alice.ConnectAsync();

        PostgresDatabase.StopServer();
        try
        {
            // The oldest events are only in PostgreSQL now: the read answers unavailable (503), never an empty 500 or
            // a dropped connection; the newest ones still come from the hot window.
            var http = await Assert.ThrowsAsync<ChatApiException>(() => alice.Http.HistoryAsync(group.GroupId, 3, 10));
            Assert.Equal((ChatErrorCodes.Unavailable, 503), (http.Code, http.Status));
            var ws = await Assert.ThrowsAsync<ChatApiException>(() => socket.HistoryAsync(group.GroupId, 3, 10));
            Assert.Equal((ChatErrorCodes.Unavailable, 503), (ws.Code, ws.Status));
            Assert.Equal(last, (await socket.HistoryAsync(group.GroupId, null, 2)).Events[^1].Seq);
        }
        finally
        {
            PostgresDatabase.StartServer();
        }
    }

    [Fact]
    public async Task History_older_than_the_hot_window_reads_through_to_postgres()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var server = await TestServer.StartAsync(Settings(db, new() { ["Postgres:HotEventsPerGroup"] = "5" }));
        var alice = await server.NewUserAsync("alice");
        var group = await alice.Http.CreateGroupAsync("window");
        for (var i = 0; i < 40; i++) await alice.Http.SendAsync(group.GroupId, $"w-{i}", $"window {i}");
        var (edited, _) = await alice.Http.SendAsync(group.GroupId, "w-edit", "before");
        await alice.Http.EditAsync(group.GroupId, edited.Seq, "after");
        var last = (await alice.Http.GetGroupAsync(group.GroupId)).LastSeq;
        await WaitForDrainAsync(db, group.GroupId, last);

        var all = new List<GroupEvent>();
        long? before = null;
        while (true)
        {
            var page = await alice.Http.HistoryAsync(group.GroupId, before, 10);
            all.InsertRange(0, page.Events);
            if (!page.HasMore) break;
            before = page.Events[0].Seq;
        }

        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), all.Select(e => e.Seq));
        Assert.Equal("window 0", all[1].Body);
        Assert.Equal("after", all.Single(e => e.Seq == edited.Seq).Body);
    }
}

[CollectionDefinition("postgres", DisableParallelization = true)]
public sealed class PostgresCollection
{
}
