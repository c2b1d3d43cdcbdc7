using System.Collections.Concurrent;
using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

public sealed class RestartAndCrashTests
{
    private const string Password = "password123";

    [Fact]
    public async Task After_a_graceful_restart_users_logins_groups_members_roles_and_history_are_all_there()
    {
        var dir = TestServer.NewDataDirectory();
        try
        {
            Group open, hidden;
            TestUser alice, bob, carol;
            await using (var first = await TestServer.StartAsync(dataDirectory: dir))
            {
                alice = await first.NewUserAsync("alice");
                bob = await first.NewUserAsync("bob");
                carol = await first.NewUserAsync("carol");
                open = await alice.Http.CreateGroupAsync("open", "for all");
                hidden = await alice.Http.CreateGroupAsync("hidden", isPrivate: true);
                await bob.Http.JoinGroupAsync(open.GroupId);
                await alice.Http.AddMemberAsync(open.GroupId, carol.Id);
                await alice.Http.SetRoleAsync(open.GroupId, carol.Id, ChatRoles.Admin);
                await alice.Http.SetRoleAsync(open.GroupId, bob.Id, ChatRoles.Owner);
                await alice.Http.UpdateGroupAsync(open.GroupId, name: "renamed");
                await alice.Http.AddMemberAsync(hidden.GroupId, bob.Id);
                await bob.Http.LeaveGroupAsync(hidden.GroupId);
                await carol.Http.SendAsync(open.GroupId, "c-1", "before the restart");
                await first.StopAsync();
            }

            await using var second = await TestServer.StartAsync(dataDirectory: dir);
            var aliceHttp = second.NewHttp();
            aliceHttp.AccessToken = alice.Token; // the signing key and the login survive the restart
            var bobHttp = second.NewHttp();
            bobHttp.AccessToken = bob.Token;

            Assert.Equal(bob.User, await aliceHttp.GetUserAsync("@" + bob.User.Username));
            var reopened = await bobHttp.GetGroupAsync(open.GroupId);
            Assert.Equal(("renamed", "for all", bob.Id, 3L, 8L, ChatRoles.Owner), (reopened.Name, reopened.Description, reopened.OwnerId, reopened.MemberCount, reopened.LastSeq, reopened.MyRole));
            var roles = (await bobHttp.ListMembersAsync(open.GroupId)).Items.ToDictionary(m => m.UserId, m => m.Role);
            Assert.Equal(ChatRoles.Admin, roles[alice.Id]);
            Assert.Equal(ChatRoles.Owner, roles[bob.Id]);
            Assert.Equal(ChatRoles.Admin, roles[carol.Id]);
            var kinds = (await bobHttp.HistoryAsync(open.GroupId)).Events.Select(e => (e.Seq, e.Kind)).ToList();
            Assert.Equal(
                [(1L, EventKind.MemberJoined), (2, EventKind.MemberJoined), (3, EventKind.MemberJoined), (4, EventKind.RoleChanged),
                 (5, EventKind.RoleChanged), (6, EventKind.RoleChanged), (7, EventKind.GroupUpdated), (8, EventKind.Message)],
                kinds);
            await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => bobHttp.GetGroupAsync(hidden.GroupId));
            var hiddenNow = await aliceHttp.GetGroupAsync(hidden.GroupId);
            Assert.Equal((1L, 3L, true), (hiddenNow.MemberCount, hiddenNow.LastSeq, hiddenNow.IsPrivate));
            Assert.Equal(new[] { hidden.GroupId, open.GroupId }.Order(), (await aliceHttp.ListGroupsAsync()).Items.Select(g => g.GroupId).Order());

            var carolHttp = second.NewHttp();
            await carolHttp.RefreshAsync(carol.Login.RefreshToken);
            Assert.Equal(carol.Id, (await carolHttp.GetUserAsync(carol.Id)).UserId);
            Assert.Equal(alice.Id, (await second.NewHttp().LoginAsync(alice.User.Username, alice.Password)).UserId);
            await using var socket = await second.ConnectAsync();
            Assert.Equal(bob.Id, (await socket.HelloAsync(bob.Token)).UserId);
            var next = await aliceHttp.CreateGroupAsync("after");
            Assert.Equal(1, next.LastSeq);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task After_sigkill_every_acknowledged_change_survives_and_nothing_half_written_shows()
    {
        var dir = TestServer.NewDataDirectory();
        var model = new Model();
        try
        {
            await using var process = new ServerProcess(dir);
            await process.StartAsync();
            for (var cycle = 0; cycle < 3; cycle++)
            {
                using var killed = new CancellationTokenSource();
                var workers = Enumerable.Range(0, 4).Select(w => WorkAsync(process.NewHttp(), model, $"c{cycle}w{w}", killed.Token)).ToArray();
                await Task.Delay(Random.Shared.Next(100, 600));
                await killed.CancelAsync();
                process.Kill();
                await Task.WhenAll(workers);

                await process.StartAsync();
                await VerifyAsync(process, model);
            }

            Assert.True(model.Users.Count >= 3, $"only {model.Users.Count} registrations were acknowledged");
            Assert.True(model.Owners.Count >= 3, $"only {model.Owners.Count} groups were acknowledged");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class Model
    {
        public ConcurrentDictionary<Guid, string> Users { get; } = new();

        public ConcurrentDictionary<Guid, Guid> Owners { get; } = new();

        public ConcurrentDictionary<(Guid Group, Guid User), string> Roles { get; } = new();
    }

    /// <summary>Registers, signs in, creates groups, joins others' groups, adds members and promotes them, until the kill.</summary>
    private static async Task WorkAsync(ChatHttpClient http, Model model, string prefix, CancellationToken killed)
    {
        try
        {
            for (var i = 0; !killed.IsCancellationRequested; i++)
            {
                var name = $"{prefix}n{i}";
                var user = await http.RegisterAsync(name, name, Password);
                model.Users[user.UserId] = name;
                await http.LoginAsync(name, Password);
                var group = await http.CreateGroupAsync($"{name} group");
                model.Owners[group.GroupId] = user.UserId;
                model.Roles[(group.GroupId, user.UserId)] = ChatRoles.Owner;

                var others = model.Owners.Where(o => o.Value != user.UserId).Select(o => o.Key).ToArray();
                if (others.Length > 0)
                {
                    var target = others[Random.Shared.Next(others.Length)];
                    await http.JoinGroupAsync(target);
                    model.Roles.TryAdd((target, user.UserId), ChatRoles.Member);
                }

                var users = model.Users.Keys.Where(u => u != user.UserId).ToArray();
                if (users.Length > 0)
                {
                    var friend = users[Random.Shared.Next(users.Length)];
                    await http.AddMemberAsync(group.GroupId, friend);
                    model.Roles.TryAdd((group.GroupId, friend), ChatRoles.Member);
                    await http.SetRoleAsync(group.GroupId, friend, ChatRoles.Admin);
                    model.Roles[(group.GroupId, friend)] = ChatRoles.Admin;
                }
            }
        }
        catch (Exception) when (killed.IsCancellationRequested)
        {
            // The server died under this request: its outcome is unknown, and nothing of it was recorded.
        }
    }

    private static async Task VerifyAsync(ServerProcess process, Model model)
    {
        var clients = new Dictionary<Guid, ChatHttpClient>();
        foreach (var (userId, name) in model.Users)
        {
            var http = process.NewHttp();
            var login = await http.LoginAsync(name, Password);
            Assert.Equal(userId, login.UserId);
            clients[userId] = http;
        }

        // Every acknowledged group, with every acknowledged member and role.
        foreach (var (groupId, ownerId) in model.Owners)
        {
            var owner = clients[ownerId];
            var group = await owner.GetGroupAsync(groupId);
            Assert.Equal(ownerId, group.OwnerId);
            var members = (await owner.ListMembersAsync(groupId, null, 1000)).Items.ToDictionary(m => m.UserId, m => m.Role);
            foreach (var ((g, u), role) in model.Roles.Where(r => r.Key.Group == groupId))
            {
                Assert.True(members.TryGetValue(u, out var actual), $"acknowledged member {u} of {groupId} is missing");
                if (role == ChatRoles.Member) Assert.Contains(actual, new[] { ChatRoles.Member, ChatRoles.Admin });
                else Assert.Equal(role, actual);
            }
        }

        // Every group any acknowledged user is in, acknowledged or not, is whole: owner, seq-1 event, gap-free log.
        var checkedGroups = new HashSet<Guid>();
        foreach (var (userId, http) in clients)
        {
            Guid? cursor = null;
            do
            {
                var page = await http.ListGroupsAsync(cursor, 100);
                foreach (var group in page.Items)
                {
                    if (checkedGroups.Add(group.GroupId)) await VerifyGroupAsync(http, group);
                }

                cursor = page.NextCursor;
            }
            while (cursor is not null);
        }

        Assert.Superset(model.Owners.Keys.ToHashSet(), checkedGroups);
    }

    private static async Task VerifyGroupAsync(ChatHttpClient http, Group group)
    {
        var members = (await http.ListMembersAsync(group.GroupId, null, 1000)).Items;
        Assert.Equal(group.MemberCount, members.Count);
        Assert.Equal(ChatRoles.Owner, Assert.Single(members, m => m.Role == ChatRoles.Owner).Role);
        Assert.Contains(members, m => m.UserId == group.OwnerId && m.Role == ChatRoles.Owner);

        var seqs = new List<long>();
        long? before = null;
        while (true)
        {
            var page = await http.HistoryAsync(group.GroupId, before, 100);
            seqs.InsertRange(0, page.Events.Select(e => e.Seq));
            if (page.Events.Count > 0 && page.Events[0].Seq == 1)
            {
                var created = page.Events[0];
                Assert.Equal((EventKind.MemberJoined, group.OwnerId), (created.Kind, created.ActorId));
            }

            if (!page.HasMore || page.Events.Count == 0) break;
            before = page.Events[0].Seq;
        }

        Assert.Equal(Enumerable.Range(1, (int)group.LastSeq).Select(i => (long)i), seqs);
    }
}
