using System.Diagnostics;
using System.Globalization;
using ChatServer.Client;

namespace ChatLoad;

/// <summary>Creates users, logins, groups and memberships over the HTTP API, many requests in flight.</summary>
internal sealed class Setup : IDisposable
{
    public const string Password = "load-password-1";

    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly string _prefix;
    private readonly int _concurrency;

    public Setup(LoadOptions o, string prefix)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = o.SetupConcurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = TimeSpan.FromMinutes(5),
        };
        _base = new Uri($"http://{o.Http}");
        _prefix = prefix;
        _concurrency = o.SetupConcurrency;
    }

    public ChatHttpClient NewClient(string? token = null) => new(_http, _base) { AccessToken = token };

    public string Username(int i) => _prefix + "load" + i.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>Registers users 0..count-1; returns their ids.</summary>
    public async Task<Guid[]> RegisterAsync(int count)
    {
        var ids = new Guid[count];
        await ForEachAsync(count, "register", async i =>
        {
            var user = await NewClient().RegisterAsync(Username(i), "Load " + i.ToString(CultureInfo.InvariantCulture), Password).ConfigureAwait(false);
            ids[i] = user.UserId;
        }).ConfigureAwait(false);
        return ids;
    }

    /// <summary>Signs in users 0..count-1; returns their access tokens.</summary>
    public async Task<string[]> LoginAsync(int count)
    {
        var tokens = new string[count];
        await ForEachAsync(count, "login", async i =>
        {
            var login = await NewClient().LoginAsync(Username(i), Password).ConfigureAwait(false);
            tokens[i] = login.AccessToken;
        }).ConfigureAwait(false);
        return tokens;
    }

    /// <summary>Creates one group per owner token; the owner is its first member.</summary>
    public async Task<Guid[]> CreateGroupsAsync(string[] ownerTokens)
    {
        var ids = new Guid[ownerTokens.Length];
        await ForEachAsync(ownerTokens.Length, "groups", async i =>
        {
            var g = await NewClient(ownerTokens[i]).CreateGroupAsync("load " + i.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            ids[i] = g.GroupId;
        }).ConfigureAwait(false);
        return ids;
    }

    /// <summary>Adds members: (group index, user id) pairs, by each group's owner.</summary>
    public Task AddMembersAsync(Guid[] groups, string[] ownerTokens, IReadOnlyList<(int Group, Guid User)> adds) =>
        ForEachAsync(adds.Count, "members", async i =>
        {
            var (g, user) = adds[i];
            await NewClient(ownerTokens[g]).AddMemberAsync(groups[g], user).ConfigureAwait(false);
        });

    /// <summary>Sends <paramref name="perGroup"/> messages to each group as its owner.</summary>
    public Task SendAsync(Guid[] groups, string[] ownerTokens, int perGroup, string tag) =>
        ForEachAsync(groups.Length * perGroup, "messages", async i =>
        {
            int g = i % groups.Length;
            await NewClient(ownerTokens[g]).SendAsync(groups[g], tag + "-" + i.ToString(CultureInfo.InvariantCulture), "history message " + i.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }, quiet: perGroup * groups.Length < 1000);

    public async Task ForEachAsync(int count, string what, Func<int, Task> action, bool quiet = false)
    {
        var sw = Stopwatch.StartNew();
        int next = -1, done = 0;
        var progress = quiet ? null : new Timer(_ => Console.Error.WriteLine($"  setup {what}: {Volatile.Read(ref done)}/{count} ({sw.Elapsed.TotalSeconds:F0} s)"), null, 5000, 5000);
        async Task Lane()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                for (int attempt = 0; ; attempt++)
                {
                    try
                    {
                        await action(i).ConfigureAwait(false);
                        break;
                    }
                    catch (Exception e) when (attempt < 5 && e is HttpRequestException or ChatApiException or TaskCanceledException)
                    {
                        await Task.Delay(200 * (attempt + 1)).ConfigureAwait(false);
                    }
                }

                Interlocked.Increment(ref done);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(_concurrency, Math.Max(count, 1))).Select(_ => Task.Run(Lane))).ConfigureAwait(false);
        if (progress is not null) await progress.DisposeAsync().ConfigureAwait(false);
        if (!quiet) Console.Error.WriteLine($"  setup {what}: {count} in {sw.Elapsed.TotalSeconds:F1} s");
    }

    public void Dispose() => _http.Dispose();
}
