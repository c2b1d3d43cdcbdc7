using System.Globalization;
using System.Net;

namespace ChatLoad;

/// <summary>Command-line options; every scenario has defaults matching its target in docs/performance.md.</summary>
internal sealed class LoadOptions
{
    public static readonly string[] Scenarios = ["connect", "fanout", "large-group", "send", "history", "reconnect-storm", "login-storm"];

    public string Scenario { get; private set; } = "fanout";

    public string ServerPath { get; private set; } = "./publish/chatserver";

    public int AttachPid { get; private set; }

    public IPEndPoint Http { get; private set; } = IPEndPoint.Parse("127.0.0.1:18080");

    public IPEndPoint Gateway { get; private set; } = IPEndPoint.Parse("127.0.0.1:18081");

    public string DataDir { get; private set; } = "";

    public bool Fresh { get; private set; }

    public List<string> ServerArgs { get; } = [];

    public int Workers { get; private set; }

    public double DurationSeconds { get; private set; }

    public double DrainSeconds { get; private set; } = 10;

    public int Connections { get; private set; }

    public int Groups { get; private set; }

    public int Members { get; private set; }

    public int Online { get; private set; }

    public double Rate { get; private set; }

    public int InFlight { get; private set; }

    public int BodyBytes { get; private set; } = 64;

    public int HistoryMessages { get; private set; } = 200;

    public int OfflineMessages { get; private set; } = 5;

    public int Logins { get; private set; } = 400;

    public int LoginUsers { get; private set; } = 100;

    public int SetupConcurrency { get; private set; } = 64;

    public int ConnectConcurrency { get; private set; } = 1000;

    public int WorkerIndex { get; private set; } = -1;

    public string? PlanFile { get; private set; }

    public string RunId { get; private set; } = DateTime.UtcNow.Ticks.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>The clients (connections) the scenario keeps online.</summary>
    public int Clients => Scenario switch
    {
        "fanout" => Groups * Members,
        "large-group" => Online,
        _ => Connections,
    };

    public static LoadOptions Parse(string[] args)
    {
        var o = new LoadOptions();
        var set = new HashSet<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help") throw new UsageException("");
            if (a == "--fresh")
            {
                o.Fresh = true;
                continue;
            }

            if (!a.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) throw new UsageException("bad argument: " + a);
            string v = args[++i];
            set.Add(a);
            switch (a)
            {
                case "--scenario": o.Scenario = v; break;
                case "--server": o.ServerPath = v; break;
                case "--pid": o.AttachPid = Int(v); break;
                case "--http": o.Http = IPEndPoint.Parse(v); break;
                case "--gateway": o.Gateway = IPEndPoint.Parse(v); break;
                case "--data": o.DataDir = v; break;
                case "--server-arg": o.ServerArgs.Add(v); break;
                case "--workers": o.Workers = Int(v); break;
                case "--duration": o.DurationSeconds = Dbl(v); break;
                case "--drain": o.DrainSeconds = Dbl(v); break;
                case "--connections": o.Connections = Int(v); break;
                case "--groups": o.Groups = Int(v); break;
                case "--members": o.Members = Int(v); break;
                case "--online": o.Online = Int(v); break;
                case "--rate": o.Rate = Dbl(v); break;
                case "--inflight": o.InFlight = Int(v); break;
                case "--body-bytes": o.BodyBytes = Int(v); break;
                case "--history-messages": o.HistoryMessages = Int(v); break;
                case "--offline-messages": o.OfflineMessages = Int(v); break;
                case "--logins": o.Logins = Int(v); break;
                case "--login-users": o.LoginUsers = Int(v); break;
                case "--setup-concurrency": o.SetupConcurrency = Int(v); break;
                case "--connect-concurrency": o.ConnectConcurrency = Int(v); break;
                case "--worker-index": o.WorkerIndex = Int(v); break;
                case "--plan": o.PlanFile = v; break;
                case "--run-id": o.RunId = v; break;
                default: throw new UsageException("unknown option: " + a);
            }
        }

        if (!Scenarios.Contains(o.Scenario)) throw new UsageException("unknown scenario: " + o.Scenario);
        void Default(string flag, Action apply)
        {
            if (!set.Contains(flag)) apply();
        }

        switch (o.Scenario)
        {
            case "connect":
                Default("--connections", () => o.Connections = 18_000);
                Default("--groups", () => o.Groups = 180);
                Default("--duration", () => o.DurationSeconds = 10);
                break;
            case "fanout":
                Default("--groups", () => o.Groups = 10);
                Default("--members", () => o.Members = 1_000);
                Default("--rate", () => o.Rate = 15);
                Default("--duration", () => o.DurationSeconds = 30);
                break;
            case "large-group":
                Default("--members", () => o.Members = 50_000);
                Default("--online", () => o.Online = 15_000);
                Default("--rate", () => o.Rate = 2);
                Default("--duration", () => o.DurationSeconds = 30);
                o.Groups = 1;
                break;
            case "send":
                Default("--connections", () => o.Connections = 200);
                Default("--inflight", () => o.InFlight = 32);
                Default("--duration", () => o.DurationSeconds = 20);
                o.Groups = o.Connections;
                break;
            case "history":
                Default("--connections", () => o.Connections = 64);
                Default("--groups", () => o.Groups = 16);
                Default("--inflight", () => o.InFlight = 8);
                Default("--duration", () => o.DurationSeconds = 20);
                break;
            case "reconnect-storm":
                Default("--connections", () => o.Connections = 10_000);
                Default("--groups", () => o.Groups = 100);
                Default("--duration", () => o.DurationSeconds = 60);
                break;
            default:
                Default("--duration", () => o.DurationSeconds = 120);
                break;
        }

        if (o.Workers <= 0) o.Workers = Math.Max(1, (o.Clients + 14_999) / 15_000);
        if (o.DataDir.Length == 0) o.DataDir = Path.Combine(Path.GetTempPath(), "chatload", o.Scenario);
        return o;
    }

    private static int Int(string v) => int.Parse(v, CultureInfo.InvariantCulture);

    private static double Dbl(string v) => double.Parse(v, CultureInfo.InvariantCulture);
}

internal sealed class UsageException(string message) : Exception(message);
