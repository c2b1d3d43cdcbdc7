using System.Diagnostics;
using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

/// <summary>One in-process server shared by the tests of a class whose groups and users do not interfere.</summary>
public sealed class MessagingServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>A group with its owner and further members, created over HTTP.</summary>
public sealed record GroupSetup(Group Group, TestUser Owner, TestUser[] Members)
{
    public Guid Id => Group.GroupId;

    public TestUser this[int index] => index == 0 ? Owner : Members[index - 1];
}

/// <summary>Shared steps of the messaging tests.</summary>
public static class MessagingKit
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A public (or private) group owned by a new user, with <paramref name="others"/> more new users as members.</summary>
    public static async Task<GroupSetup> GroupAsync(TestServer server, int others, bool isPrivate = false)
    {
        var owner = await server.NewUserAsync("owner");
        var group = await owner.Http.CreateGroupAsync("room " + Guid.NewGuid().ToString("N")[..8], isPrivate: isPrivate);
        var members = new TestUser[others];
        for (var i = 0; i < others; i++)
        {
            members[i] = await server.NewUserAsync("member");
            await owner.Http.AddMemberAsync(group.GroupId, members[i].Id);
        }

        return new GroupSetup(await owner.Http.GetGroupAsync(group.GroupId), owner, members);
    }

    /// <summary>Every push up to and including the first one <paramref name="marker"/> accepts, in arrival order.</summary>
    public static async Task<List<ServerPush>> PushesUntilAsync(ChatSocket socket, Func<ServerPush, bool> marker, TimeSpan? timeout = null)
    {
        var list = new List<ServerPush>();
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        try
        {
            while (true)
            {
                var push = await socket.Pushes.ReadAsync(cts.Token);
                list.Add(push);
                if (marker(push)) return list;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the marker push did not arrive within {(timeout ?? Timeout).TotalSeconds} s; got {list.Count} pushes: {string.Join(", ", list.Take(20))}");
        }
    }

    /// <summary>Every push up to and including the Event of <paramref name="groupId"/> with <paramref name="seq"/>.</summary>
    public static Task<List<ServerPush>> PushesUntilEventAsync(ChatSocket socket, Guid groupId, long seq, TimeSpan? timeout = null)
        => PushesUntilAsync(socket, p => p is EventPush e && e.Event.GroupId == groupId && e.Event.Seq >= seq, timeout);

    /// <summary>The Event pushes of one group among <paramref name="pushes"/>.</summary>
    public static List<GroupEvent> EventsOf(IEnumerable<ServerPush> pushes, Guid groupId)
        => pushes.OfType<EventPush>().Select(p => p.Event).Where(e => e.GroupId == groupId).ToList();

    /// <summary>
    /// Sends a marker message from <paramref name="sender"/> and returns every push <paramref name="observer"/>
    /// got before it (the marker excluded): pushes are ordered, so anything caused earlier is in the list.
    /// </summary>
    public static async Task<List<ServerPush>> PushesBeforeMarkerAsync(ChatSocket observer, TestUser sender, Guid groupId)
    {
        var marker = await sender.Http.SendAsync(groupId, "marker-" + Guid.NewGuid().ToString("N"), "marker");
        var pushes = await PushesUntilEventAsync(observer, groupId, marker.Result.Seq);
        var last = (EventPush)pushes[^1];
        Assert.Equal(marker.Result.Seq, last.Event.Seq);
        pushes.RemoveAt(pushes.Count - 1);
        return pushes;
    }

    public static async Task<ChatApiException> ApiErrorAsync(Func<Task> action, string code)
    {
        var error = await Assert.ThrowsAsync<ChatApiException>(action);
        Assert.Equal(code, error.Code);
        return error;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (then fails).</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (timeout ?? Timeout)) throw new TimeoutException("timed out waiting until " + what);
            await Task.Delay(10);
        }
    }

    /// <summary>The whole log of a group, 1..lastSeq, read with History pages of 100.</summary>
    public static async Task<List<GroupEvent>> FullHistoryAsync(ChatHttpClient http, Guid groupId)
    {
        var all = new List<GroupEvent>();
        long? before = null;
        while (true)
        {
            var page = await http.HistoryAsync(groupId, before, 100);
            all.InsertRange(0, page.Events);
            if (!page.HasMore || page.Events.Count == 0) return all;
            before = page.Events[0].Seq;
        }
    }
}
