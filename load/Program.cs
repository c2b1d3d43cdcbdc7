using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ChatServer.Client;
using HdrHistogram;

namespace ChatLoad;

internal static class Program
{
    private static readonly string[] s_loadFlags = ["--Chat:SendRatePerSecond=1000000", "--Chat:SendBurst=1000000"];
    private static readonly string[] s_setupFlags = ["--Auth:Argon2MemoryKiB=64", "--Auth:Argon2Iterations=1", "--Storage:Durability=relaxed", "--Chat:SendRatePerSecond=1000000", "--Chat:SendBurst=1000000"];

    public static async Task<int> Main(string[] args)
    {
        LoadOptions o;
        try
        {
            o = LoadOptions.Parse(args);
        }
        catch (Exception e) when (e is UsageException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (o.WorkerIndex >= 0) return await RemoteShare.WorkerMainAsync(o).ConfigureAwait(false);
        try
        {
            return await new Coordinator(o, args).RunAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("chatload: " + e);
            return 1;
        }
    }

    public static IEnumerable<string> SetupFlags => s_setupFlags;

    public static IEnumerable<string> LoadFlags => s_loadFlags;

    private const string Usage = """
        usage: chatload --scenario connect|fanout|large-group|send|history|reconnect-storm|login-storm [options]
          --server PATH          server binary (default ./publish/chatserver); the tool starts and stops it
          --pid PID              attach to a running server instead (with --http/--gateway; no setup restart)
          --http A:P --gateway A:P   listeners (default 127.0.0.1:18080 / 127.0.0.1:18081)
          --data DIR             data directory (default /tmp/chatload/SCENARIO); setup is cached there
          --fresh                wipe the data directory and redo the setup
          --server-arg FLAG      extra server flag (repeatable), e.g. --server-arg --Storage:Durability=relaxed
          --workers N            client processes (default: one per 15,000 connections)
          --duration S  --drain S
          --connections N  --groups G  --members M  --online K  --rate R (messages/s per group)
          --inflight W (requests in flight per connection: send, history)  --body-bytes B
          --history-messages N  --offline-messages K  --logins N  --login-users U
          --setup-concurrency C  --connect-concurrency C
        """;
}

/// <summary>Setup, the server's lifecycle, the shares, the phases of a scenario and the report.</summary>
internal sealed class Coordinator(LoadOptions o, string[] args)
{
    private static readonly JsonSerializerOptions s_json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
    private readonly Dictionary<string, object> _report = [];
    private readonly List<(string Name, string Value)> _rows = [];

    public async Task<int> RunAsync()
    {
        Console.Error.WriteLine($"chatload {o.Scenario}: {o.Clients} connections, {o.Workers} client process(es), data {o.DataDir}");
        if (o.Scenario == "login-storm") return await LoginStormAsync().ConfigureAwait(false);
        string key = $"{o.Scenario}/c{o.Connections}/g{o.Groups}/m{o.Members}/k{o.Online}/h{o.HistoryMessages}";
        string planFile = Path.Combine(o.DataDir, "plan.json");
        var plan = o.Fresh || o.AttachPid != 0 ? null : Plan.TryLoad(planFile, key);
        if (plan is null && o.AttachPid == 0)
        {
            if (Directory.Exists(o.DataDir)) Directory.Delete(o.DataDir, recursive: true);
            Directory.CreateDirectory(o.DataDir);
            await using var setupServer = await ServerProcess.StartAsync(o, Program.SetupFlags, "server-setup.log").ConfigureAwait(false);
            plan = await BuildPlanAsync(key).ConfigureAwait(false);
            plan.Save(planFile);
        }
        else if (plan is null)
        {
            plan = await BuildPlanAsync(key).ConfigureAwait(false);
            Directory.CreateDirectory(o.DataDir);
            plan.Save(planFile);
        }

        await using var server = o.AttachPid != 0 ? ServerProcess.Attach(o.AttachPid) : await ServerProcess.StartAsync(o, Program.LoadFlags, "server.log").ConfigureAwait(false);
        var shares = new List<Share>();
        if (o.Workers == 1)
        {
            shares.Add(new LocalShare(new Runner(o, plan, 0, 1, o.RunId), o));
        }
        else
        {
            for (int i = 0; i < o.Workers; i++) shares.Add(new RemoteShare(o, planFile, i, args));
        }

        var wall = Stopwatch.StartNew();
        double toolCpu0 = ProcStats.OwnCpuSeconds();
        using var progress = new Timer(_ => PrintProgress(shares, wall), null, 1000, 1000);
        try
        {
            await ScenarioAsync(server, plan, shares).ConfigureAwait(false);
            var results = new List<WorkerResult>();
            foreach (var s in shares) results.Add(JsonSerializer.Deserialize<WorkerResult>(await s.CommandAsync("RESULT").ConfigureAwait(false))!);
            Merge(plan, results, ProcStats.OwnCpuSeconds() - toolCpu0, server);
        }
        finally
        {
            foreach (var s in shares) await s.DisposeAsync().ConfigureAwait(false);
        }

        Print();
        return 0;
    }

    private async Task ScenarioAsync(ServerProcess server, Plan plan, List<Share> shares)
    {
        long rss0 = server.RssBytes(), slab0 = ProcStats.MemInfoBytes("Slab"), tcp0 = ProcStats.TcpBufferBytes();
        var sw = Stopwatch.StartNew();
        await AllAsync(shares, "CONNECT").ConfigureAwait(false);
        Row("connect phase", $"{plan.Clients.Length} clients in {sw.Elapsed.TotalSeconds:F1} s");
        double cpu0 = server.CpuSeconds();
        sw.Restart();
        switch (o.Scenario)
        {
            case "connect":
                await Task.Delay(3000).ConfigureAwait(false);
                long rss1 = server.RssBytes(), slab1 = ProcStats.MemInfoBytes("Slab"), tcp1 = ProcStats.TcpBufferBytes();
                int n = shares.Sum(s => s.Latest?.Connected ?? 0);
                double user = (rss1 - rss0) / (double)Math.Max(n, 1), kernel = (slab1 - slab0 + tcp1 - tcp0) / (double)Math.Max(n, 1);
                Row("connections open", n.ToString(CultureInfo.InvariantCulture));
                Row("server RSS", $"{Mb(rss0)} MB before, {Mb(rss1)} MB with the connections");
                Row("server user memory / connection", $"{user / 1024:F2} KB (RSS delta)");
                Row("kernel memory / connection (both ends)", $"{kernel / 1024:F2} KB (Slab + TCP buffers delta; loopback, so client and server sockets)");
                Row("all-in / connection (server share)", $"{(user + (kernel / 2)) / 1024:F2} KB (RSS + half the kernel delta) — target ≤ 8 KB");
                _report["connections"] = n;
                _report["userBytesPerConn"] = Math.Round(user);
                _report["kernelBytesPerConnBothEnds"] = Math.Round(kernel);
                _report["allInBytesPerConn"] = Math.Round(user + (kernel / 2));
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, o.DurationSeconds - 3))).ConfigureAwait(false);
                Row("still open after hold", shares.Sum(s => s.Latest?.Connected ?? 0).ToString(CultureInfo.InvariantCulture));
                break;
            case "reconnect-storm":
                using (var setup = new Setup(o, "u"))
                {
                    var owners = plan.Groups.Select(g => plan.Clients.First(c => c.Groups.Contains(Array.IndexOf(plan.Groups, g)))).Select(c => c.Token).ToArray();
                    var ids = plan.Groups.Select(g => g.Id).ToArray();
                    await setup.SendAsync(ids, owners, 1, o.RunId + "w").ConfigureAwait(false);
                    await Task.Delay(3000).ConfigureAwait(false);
                    await AllAsync(shares, "DROP").ConfigureAwait(false);
                    await setup.SendAsync(ids, owners, o.OfflineMessages, o.RunId + "o").ConfigureAwait(false);
                }

                cpu0 = server.CpuSeconds();
                sw.Restart();
                var answers = await AllAsync(shares, "RESUME").ConfigureAwait(false);
                double ms = answers.Max(a => double.Parse(a, CultureInfo.InvariantCulture));
                Row("all resumed and synced", $"{ms / 1000:F2} s after the storm began — target ≤ 5 s");
                _report["syncedSeconds"] = Math.Round(ms / 1000, 3);
                break;
            default:
                await AllAsync(shares, "RUN").ConfigureAwait(false);
                break;
        }

        double cpu = server.CpuSeconds() - cpu0;
        Row("server CPU", $"{cpu:F1} s over {sw.Elapsed.TotalSeconds:F1} s = {cpu / sw.Elapsed.TotalSeconds * 100:F0}% of one core (2 cores = 200%)");
        Row("server RSS now / peak", $"{Mb(server.RssBytes())} MB / {Mb(server.PeakRssBytes())} MB");
        _report["serverCpuPercent"] = Math.Round(cpu / sw.Elapsed.TotalSeconds * 100);
        _report["serverPeakRssMB"] = Mb(server.PeakRssBytes());
        _report["phaseSeconds"] = Math.Round(sw.Elapsed.TotalSeconds, 2);
    }

    private void Merge(Plan plan, List<WorkerResult> results, double parentCpu, ServerProcess server)
    {
        _ = server;
        var latency = Runner.NewHistogram();
        var ack = Runner.NewHistogram();
        var sync = Runner.NewHistogram();
        foreach (var r in results)
        {
            Load(latency, r.Latency);
            Load(ack, r.AckLatency);
            Load(sync, r.SyncTime);
        }

        long sent = results.Sum(r => r.Counters.Sent), acked = results.Sum(r => r.Counters.Acked);
        long delivered = results.Sum(r => r.Counters.Delivered), errors = results.Sum(r => r.Counters.Errors);
        long dups = results.Sum(r => r.Duplicates), holes = results.Sum(r => r.Holes), gaps = results.Sum(r => r.Gaps);
        double toolCpu = parentCpu + (o.Workers > 1 ? results.Sum(r => r.Counters.CpuSeconds) : 0);
        // Rates are over the whole phase (sending plus draining until the last reply or delivery), never the nominal duration.
        double seconds = Math.Max(_report.TryGetValue("phaseSeconds", out var phase) ? (double)phase : o.DurationSeconds, 0.001);
        Row("errors / unexpected closes", $"{errors} / {results.Sum(r => r.UnexpectedCloses)}" + (results.Select(r => r.LastError).FirstOrDefault(e => e is not null) is { } le ? $" (last: {le})" : ""));
        _report["errors"] = errors;
        switch (o.Scenario)
        {
            case "fanout":
            case "large-group":
                long[] ackedPerGroup = new long[plan.Groups.Length];
                foreach (var r in results) for (int g = 0; g < ackedPerGroup.Length; g++) ackedPerGroup[g] += r.AckedPerGroup[g];
                long expected = ackedPerGroup.Select((a, g) => a * plan.Groups[g].Online).Sum();
                long measured = latency.TotalCount;
                Row("messages sent / acknowledged", $"{sent} / {acked} ({acked / seconds:F1}/s)");
                Row("deliveries expected / received", $"{expected} / {measured}: lost {Math.Max(0, expected - measured)}, duplicates {dups}, holes {holes}, gaps {gaps}");
                Row("deliveries/s", $"{measured / seconds:F0}" + (o.Scenario == "fanout" ? " — target ≥ 150,000" : ""));
                Row("end-to-end latency", Percentiles(latency) + (o.Scenario == "fanout" ? " — target p99 ≤ 100 ms" : ""));
                Row("send ack latency", Percentiles(ack));
                _report["deliveriesPerSecond"] = Math.Round(measured / seconds);
                _report["expected"] = expected;
                _report["received"] = measured;
                _report["lost"] = Math.Max(0, expected - measured);
                _report["duplicates"] = dups;
                _report["holes"] = holes;
                _report["latencyMs"] = PercentileMap(latency);
                if (o.Scenario == "large-group")
                {
                    var last = Runner.NewHistogram();
                    var perSeq = new Dictionary<long, (long Count, long Max)>();
                    foreach (var r in results)
                    {
                        foreach (var e in r.PerSeq)
                        {
                            perSeq.TryGetValue(e[0], out var cur);
                            perSeq[e[0]] = (cur.Count + e[1], Math.Max(cur.Max, e[2]));
                        }
                    }

                    int online = plan.Groups[0].Online;
                    foreach (var (_, v) in perSeq) last.RecordValue(v.Max);
                    Row("messages reaching every online member", $"{perSeq.Count(kv => kv.Value.Count >= online)} of {perSeq.Count}");
                    Row("latency to the last online member", Percentiles(last) + " — target p99 ≤ 150 ms");
                    _report["lastMemberLatencyMs"] = PercentileMap(last);
                }

                break;
            case "send":
                Row("acknowledged sends/s", $"{acked / seconds:F0} — target ≥ 100,000 (durable: fsync group commit)");
                Row("ack latency", Percentiles(ack) + " — target p99 ≤ 10 ms");
                Row("pushes received (own group)", delivered.ToString(CultureInfo.InvariantCulture));
                _report["ackedPerSecond"] = Math.Round(acked / seconds);
                _report["ackLatencyMs"] = PercentileMap(ack);
                break;
            case "history":
                Row("Open + History requests/s", $"{acked / seconds:F0} — target ≥ 50,000");
                Row("request latency", Percentiles(latency) + " — target p99 ≤ 5 ms");
                _report["requestsPerSecond"] = Math.Round(acked / seconds);
                _report["latencyMs"] = PercentileMap(latency);
                break;
            case "reconnect-storm":
                long synced = results.Sum(r => r.Synced) - plan.Clients.Length;
                Row("clients resumed and synced", $"{synced} of {plan.Clients.Length}; events missed {holes} (expected {o.OfflineMessages} replayed per client), duplicates {dups}");
                Row("per-client time to Synced", Percentiles(sync));
                _report["synced"] = synced;
                _report["missed"] = holes;
                _report["syncTimeMs"] = PercentileMap(sync);
                break;
            default:
                break;
        }

        Row("load tool CPU", $"{toolCpu:F1} s in all (setup excluded), all client processes");
        _report["toolCpuSeconds"] = Math.Round(toolCpu, 1);
    }

    private async Task<int> LoginStormAsync()
    {
        if (Directory.Exists(o.DataDir)) Directory.Delete(o.DataDir, recursive: true);
        Directory.CreateDirectory(o.DataDir);
        await using var server = o.AttachPid != 0 ? ServerProcess.Attach(o.AttachPid) : await ServerProcess.StartAsync(o, [], "server.log").ConfigureAwait(false);
        using var setup = new Setup(o, "l");
        await setup.RegisterAsync(o.LoginUsers).ConfigureAwait(false);
        var latency = Runner.NewHistogram();
        long failures = 0;
        double cpu0 = server.CpuSeconds(), tool0 = ProcStats.OwnCpuSeconds();
        var sw = Stopwatch.StartNew();
        await setup.ForEachAsync(o.Logins, "logins", async i =>
        {
            long t = Stopwatch.GetTimestamp();
            try
            {
                await setup.NewClient().LoginAsync(setup.Username(i % o.LoginUsers), Setup.Password).ConfigureAwait(false);
                latency.RecordValue(Math.Max(1, (Stopwatch.GetTimestamp() - t) * 1_000_000 / Stopwatch.Frequency));
            }
            catch (ChatApiException)
            {
                Interlocked.Increment(ref failures);
            }
        }).ConfigureAwait(false);
        double secs = sw.Elapsed.TotalSeconds, cpu = server.CpuSeconds() - cpu0;
        Row("logins", $"{latency.TotalCount} ok, {failures} failed, {o.SetupConcurrency} in flight, default Argon2id (m=19 MiB, t=2, p=1)");
        Row("logins/s", $"{latency.TotalCount / secs:F1}");
        Row("login latency", Percentiles(latency));
        Row("server CPU", $"{cpu:F1} s over {secs:F1} s = {cpu / secs * 100:F0}% of one core");
        Row("server RSS now / peak", $"{Mb(server.RssBytes())} MB / {Mb(server.PeakRssBytes())} MB");
        Row("load tool CPU", $"{ProcStats.OwnCpuSeconds() - tool0:F1} s");
        _report["loginsPerSecond"] = Math.Round(latency.TotalCount / secs, 1);
        _report["latencyMs"] = PercentileMap(latency);
        _report["failures"] = failures;
        _report["serverCpuPercent"] = Math.Round(cpu / secs * 100);
        _report["serverPeakRssMB"] = Mb(server.PeakRssBytes());
        Print();
        return 0;
    }

    private async Task<Plan> BuildPlanAsync(string key)
    {
        using var setup = new Setup(o, "u");
        var clients = new List<ClientPlan>();
        GroupPlan[] groups;
        switch (o.Scenario)
        {
            case "large-group":
            {
                var ids = await setup.RegisterAsync(o.Members).ConfigureAwait(false);
                var tokens = await setup.LoginAsync(o.Online).ConfigureAwait(false);
                var gid = await setup.CreateGroupsAsync([tokens[0]]).ConfigureAwait(false);
                await setup.AddMembersAsync(gid, [tokens[0]], ids.Skip(1).Select(u => (0, u)).ToList()).ConfigureAwait(false);
                groups = [new GroupPlan(gid[0], o.Online)];
                for (int i = 0; i < o.Online; i++) clients.Add(new ClientPlan(ids[i], tokens[i], [0], i == 0 ? 0 : -1));
                break;
            }

            case "send":
            {
                var ids = await setup.RegisterAsync(o.Connections).ConfigureAwait(false);
                var tokens = await setup.LoginAsync(o.Connections).ConfigureAwait(false);
                var gids = await setup.CreateGroupsAsync(tokens).ConfigureAwait(false);
                groups = gids.Select(g => new GroupPlan(g, 1)).ToArray();
                for (int i = 0; i < o.Connections; i++) clients.Add(new ClientPlan(ids[i], tokens[i], [i], i));
                break;
            }

            default:
            {
                // Members of group g: users g*size .. g*size+size-1; the first is the owner (and, in fanout, the sender).
                int n = o.Clients, g = Math.Max(1, o.Groups), size = (n + g - 1) / g;
                var ids = await setup.RegisterAsync(n).ConfigureAwait(false);
                var tokens = await setup.LoginAsync(n).ConfigureAwait(false);
                var ownerTokens = Enumerable.Range(0, g).Select(k => tokens[k * size]).ToArray();
                var gids = await setup.CreateGroupsAsync(ownerTokens).ConfigureAwait(false);
                var adds = Enumerable.Range(0, n).Where(i => i % size != 0).Select(i => (i / size, ids[i])).ToList();
                await setup.AddMembersAsync(gids, ownerTokens, adds).ConfigureAwait(false);
                if (o.Scenario == "history") await setup.SendAsync(gids, ownerTokens, o.HistoryMessages, "h").ConfigureAwait(false);
                groups = gids.Select((id, k) => new GroupPlan(id, Math.Min(size, n - (k * size)))).ToArray();
                for (int i = 0; i < n; i++) clients.Add(new ClientPlan(ids[i], tokens[i], [i / size], o.Scenario == "fanout" && i % size == 0 ? i / size : -1));
                break;
            }
        }

        return new Plan(key, clients.ToArray(), groups);
    }

    private static async Task<string[]> AllAsync(List<Share> shares, string command) =>
        await Task.WhenAll(shares.Select(s => s.CommandAsync(command))).ConfigureAwait(false);

    private long _lastDelivered, _lastAcked;

    private void PrintProgress(List<Share> shares, Stopwatch wall)
    {
        var snaps = shares.Select(s => s.Latest).Where(s => s is not null).ToList();
        long delivered = snaps.Sum(s => s!.Delivered), acked = snaps.Sum(s => s!.Acked);
        Console.Error.WriteLine(
            $"[{wall.Elapsed.TotalSeconds,5:F0}s] conns {snaps.Sum(s => s!.Connected)}  sent {snaps.Sum(s => s!.Sent)}  acked {acked} (+{acked - _lastAcked}/s)  " +
            $"delivered {delivered} (+{delivered - _lastDelivered}/s)  p99 so far {(snaps.Count == 0 ? 0 : snaps.Max(s => s!.P99Us)) / 1000.0:F1} ms  errors {snaps.Sum(s => s!.Errors)}");
        _lastDelivered = delivered;
        _lastAcked = acked;
    }

    private void Row(string name, string value) => _rows.Add((name, value));

    private void Print()
    {
        int width = _rows.Max(r => r.Name.Length);
        Console.WriteLine();
        Console.WriteLine($"chatload {o.Scenario} — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
        foreach (var (name, value) in _rows) Console.WriteLine($"  {name.PadRight(width)}  {value}");
        _report["scenario"] = o.Scenario;
        _report["date"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        _report["connections"] = _report.GetValueOrDefault("connections", o.Clients);
        _report["params"] = new Dictionary<string, object>
        {
            ["groups"] = o.Groups,
            ["members"] = o.Members,
            ["online"] = o.Online,
            ["rate"] = o.Rate,
            ["duration"] = o.DurationSeconds,
            ["inflight"] = o.InFlight,
            ["workers"] = o.Workers,
            ["logins"] = o.Logins,
        };
        Console.WriteLine(JsonSerializer.Serialize(_report, s_json));
    }

    private static void Load(HistogramBase h, long[][] values)
    {
        foreach (var v in values) h.RecordValueWithCount(v[0], v[1]);
    }

    private static string Percentiles(HistogramBase h) => h.TotalCount == 0
        ? "no samples"
        : string.Create(CultureInfo.InvariantCulture, $"p50 {Ms(h, 50)} ms, p90 {Ms(h, 90)}, p99 {Ms(h, 99)}, p99.9 {Ms(h, 99.9)}, max {h.GetMaxValue() / 1000.0:F1} ms (n={h.TotalCount})");

    private static Dictionary<string, double> PercentileMap(HistogramBase h) => h.TotalCount == 0 ? [] : new()
    {
        ["p50"] = Ms(h, 50),
        ["p90"] = Ms(h, 90),
        ["p99"] = Ms(h, 99),
        ["p99.9"] = Ms(h, 99.9),
        ["max"] = h.GetMaxValue() / 1000.0,
    };

    private static double Ms(HistogramBase h, double p) => Math.Round(h.GetValueAtPercentile(p) / 1000.0, 2);

    private static long Mb(long bytes) => bytes >> 20;
}
