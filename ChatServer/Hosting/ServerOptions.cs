using System.Globalization;
using System.Net;
using System.Text;
using ChatServer.Auth;
using ChatServer.Chat;
using ChatServer.Storage;
using Microsoft.Extensions.Configuration;

namespace ChatServer.Hosting;

internal sealed class GatewayOptions
{
    public bool Echo { get; init; }

    public IReadOnlyList<string>? AllowedOrigins { get; init; }

    /// <summary>Ping interval (PROTOCOL.md §7: 25 s, under the 30 s idle timeout of common proxies).</summary>
    public int HeartbeatMs { get; init; } = 25_000;

    /// <summary>A connection silent this long (pongs included) is closed with 4002 (PROTOCOL.md §7: 60 s).</summary>
    public int IdleTimeoutMs { get; init; } = 60_000;

    /// <summary>Hello must arrive within this time of the upgrade (PROTOCOL.md §3: 10 s).</summary>
    public int HelloTimeoutMs { get; init; } = 10_000;

    /// <summary>Largest message after reassembly (PROTOCOL.md §7: 64 KiB).</summary>
    public int MaxMessageBytes { get; init; } = 64 * 1024;

    /// <summary>Requests in flight per connection (PROTOCOL.md §7: 256).</summary>
    public int MaxInFlight { get; init; } = 256;

    /// <summary>Queued outbound bytes per session before pushes stop (PROTOCOL.md §7: 1 MiB).</summary>
    public long OutboundLimitBytes { get; init; } = 1024 * 1024;

    /// <summary>A session over its outbound limit that drains nothing this long is closed with 4009 (PROTOCOL.md §5.5: 30 s).</summary>
    public int SlowConsumerTimeoutMs { get; init; } = 30_000;
}

/// <summary>Every setting of the server, read once at start from config file, CHAT_ environment variables and flags (in rising precedence).</summary>
internal sealed class ServerOptions
{
    public required IPEndPoint HttpEndpoint { get; init; }

    public required IPEndPoint GatewayEndpoint { get; init; }

    public required GatewayOptions Gateway { get; init; }

    public required StorageOptions Storage { get; init; }

    public required AuthOptions Auth { get; init; }

    public required ChatOptions Chat { get; init; }

    public string? PostgresConnectionString { get; init; }

    public bool CheckConfig { get; init; }

    public bool PrintConfig { get; init; }

    private static readonly Dictionary<string, string> FlagMap = new(StringComparer.Ordinal)
    {
        ["--http"] = "Http:Listen",
        ["--gateway"] = "Gateway:Listen",
        ["--data"] = "Storage:DataDirectory",
        ["--config"] = "Config",
        ["--postgres"] = "Postgres:ConnectionString",
    };

    /// <summary>Reads the options; throws <see cref="ConfigException"/> naming the offending key.</summary>
    public static ServerOptions Load(string[] args, IDictionary<string, string?>? overrides = null)
    {
        var check = false;
        var print = false;
        var rest = new List<string>();
        foreach (var a in args)
        {
            if (a == "--check-config") check = true;
            else if (a == "--print-config") print = true;
            else rest.Add(a);
        }

        for (var i = 0; i < rest.Count; i++)
        {
            var a = rest[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new ConfigException(a, "unexpected argument");
            var name = a.Contains('=', StringComparison.Ordinal) ? a[..a.IndexOf('=', StringComparison.Ordinal)] : a;
            if (!FlagMap.ContainsKey(name) && !name.Contains(':', StringComparison.Ordinal)) throw new ConfigException(name, "unknown flag");
            if (!a.Contains('=', StringComparison.Ordinal))
            {
                if (i + 1 >= rest.Count) throw new ConfigException(name, "missing value");
                i++;
            }
        }

        var flags = new ConfigurationBuilder().AddCommandLine(rest.ToArray(), FlagMap).Build();
        var configFile = flags["Config"] ?? Environment.GetEnvironmentVariable("CHAT_CONFIG");
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new ConfigException("--config", $"file not found: {configFile}");
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables("CHAT_");
        builder.AddCommandLine(rest.ToArray(), FlagMap);
        if (overrides is not null) builder.AddInMemoryCollection(overrides);
        IConfiguration c;
        try
        {
            c = builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ConfigException(configFile ?? "config", ex.Message);
        }

        var r = new Reader(c);
        var echo = r.Bool("Gateway:Echo", false);
        var options = new ServerOptions
        {
            HttpEndpoint = r.Endpoint("Http:Listen", "127.0.0.1:8080"),
            GatewayEndpoint = r.Endpoint("Gateway:Listen", "127.0.0.1:8081"),
            Gateway = new GatewayOptions
            {
                Echo = echo,
                AllowedOrigins = r.List("Gateway:AllowedOrigins"),
                HeartbeatMs = r.Int("Gateway:HeartbeatMs", 25_000, 100, 3_600_000),
                IdleTimeoutMs = r.Int("Gateway:IdleTimeoutMs", 60_000, 1000, 3_600_000),
                HelloTimeoutMs = r.Int("Gateway:HelloTimeoutMs", 10_000, 100, 600_000),
                // The echo endpoint serves conformance suites, whose largest messages are 16 MiB.
                MaxMessageBytes = r.Int("Gateway:MaxMessageBytes", echo ? 16 << 20 : 64 * 1024, 1024, 16 << 20),
                MaxInFlight = r.Int("Gateway:MaxInFlight", 256, 1, 65_536),
                OutboundLimitBytes = r.Int("Gateway:OutboundLimitBytes", 1 << 20, 4096, 1 << 30),
                SlowConsumerTimeoutMs = r.Int("Gateway:SlowConsumerTimeoutMs", 30_000, 100, 3_600_000),
            },
            Storage = new StorageOptions
            {
                DataDirectory = r.String("Storage:DataDirectory", "./data")!,
                Durability = r.Enum("Storage:Durability", DurabilityMode.Fsync),
                CheckpointInterval = TimeSpan.FromSeconds(r.Int("Storage:CheckpointIntervalSeconds", 60, 1, 86_400)),
                KvMemoryBytes = (long)r.Int("Storage:KvMemoryMiB", 256, 16, 1 << 20) << 20,
                KvIndexBytes = (long)r.Int("Storage:KvIndexMiB", 16, 1, 1 << 16) << 20,
                BacklogBudgetBytes = (long)r.Int("Postgres:BacklogBudgetMiB", 1024, 1, 1 << 22) << 20,
                DrainBatchEntries = r.Int("Postgres:DrainBatchEntries", 50_000, 1, 1_000_000),
                HotEventsPerGroup = r.Int("Postgres:HotEventsPerGroup", 0, 0, 100_000_000),
            },
            Auth = new AuthOptions
            {
                SigningKey = r.String("Auth:SigningKey", null),
                AccessTokenLifetime = TimeSpan.FromSeconds(r.Int("Auth:AccessTokenSeconds", 900, 5, 86_400)),
                RefreshTokenLifetime = TimeSpan.FromDays(r.Int("Auth:RefreshTokenDays", 30, 1, 3650)),
                Argon2MemoryKiB = r.Int("Auth:Argon2MemoryKiB", 19 * 1024, 8, AuthOptions.MaxArgon2MemoryKiB),
                Argon2Iterations = r.Int("Auth:Argon2Iterations", 2, 1, AuthOptions.MaxArgon2Iterations),
                Argon2Parallelism = r.Int("Auth:Argon2Parallelism", 1, 1, AuthOptions.MaxArgon2Parallelism),
                MaxConcurrentHashes = r.Int("Auth:MaxConcurrentHashes", 0, 0, 1024),
                Issuer = r.String("Auth:Issuer", "chatserver")!,
                Audience = r.String("Auth:Audience", "chat")!,
            },
            Chat = new ChatOptions
            {
                MaxBodyBytes = r.Int("Chat:MaxBodyBytes", 16 * 1024, 1, 60 * 1024),
                SendRatePerSecond = r.Int("Chat:SendRatePerSecond", 20, 1, 1_000_000),
                SendBurst = r.Int("Chat:SendBurst", 50, 1, 1_000_000),
                FanoutLimit = r.Int("Chat:FanoutLimit", 1000, 1, 1_000_000),
                ResumeLimit = r.Int("Chat:ResumeLimit", 1000, 1, 100_000),
                TypingInterval = TimeSpan.FromMilliseconds(r.Int("Chat:TypingIntervalMs", 1000, 0, 60_000)),
            },
            PostgresConnectionString = r.String("Postgres:ConnectionString", null),
            CheckConfig = check,
            PrintConfig = print,
        };
        r.RejectUnknownKeys();
        if (options.Auth.SigningKey is { } key)
        {
            try
            {
                if (Convert.FromBase64String(key).Length < 32) throw new ConfigException("Auth:SigningKey", "must be base64 of at least 32 bytes");
            }
            catch (FormatException)
            {
                throw new ConfigException("Auth:SigningKey", "must be base64 of at least 32 bytes");
            }
        }

        return options;
    }

    /// <summary>The effective configuration as JSON (the signing key redacted), for --print-config.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("{\n");
        sb.Append(CultureInfo.InvariantCulture, $"  \"Http\": {{ \"Listen\": \"{HttpEndpoint}\" }},\n");
        sb.Append(CultureInfo.InvariantCulture, $"  \"Gateway\": {{ \"Listen\": \"{GatewayEndpoint}\", \"Echo\": {Lower(Gateway.Echo)}, \"AllowedOrigins\": [{string.Join(", ", (Gateway.AllowedOrigins ?? []).Select(o => $"\"{o}\""))}], \"HeartbeatMs\": {Gateway.HeartbeatMs}, \"IdleTimeoutMs\": {Gateway.IdleTimeoutMs}, \"HelloTimeoutMs\": {Gateway.HelloTimeoutMs}, \"MaxMessageBytes\": {Gateway.MaxMessageBytes}, \"MaxInFlight\": {Gateway.MaxInFlight}, \"OutboundLimitBytes\": {Gateway.OutboundLimitBytes}, \"SlowConsumerTimeoutMs\": {Gateway.SlowConsumerTimeoutMs} }},\n");
        sb.Append(CultureInfo.InvariantCulture, $"  \"Storage\": {{ \"DataDirectory\": \"{Storage.DataDirectory}\", \"Durability\": \"{Storage.Durability.ToString().ToLowerInvariant()}\", \"CheckpointIntervalSeconds\": {(int)Storage.CheckpointInterval.TotalSeconds}, \"KvMemoryMiB\": {Storage.KvMemoryBytes >> 20}, \"KvIndexMiB\": {Storage.KvIndexBytes >> 20} }},\n");
        sb.Append(CultureInfo.InvariantCulture, $"  \"Auth\": {{ \"SigningKey\": {(Auth.SigningKey is null ? "null" : "\"(set)\"")}, \"AccessTokenSeconds\": {(int)Auth.AccessTokenLifetime.TotalSeconds}, \"RefreshTokenDays\": {(int)Auth.RefreshTokenLifetime.TotalDays}, \"Argon2MemoryKiB\": {Auth.Argon2MemoryKiB}, \"Argon2Iterations\": {Auth.Argon2Iterations}, \"Argon2Parallelism\": {Auth.Argon2Parallelism}, \"MaxConcurrentHashes\": {Auth.MaxConcurrentHashes}, \"Issuer\": \"{Auth.Issuer}\", \"Audience\": \"{Auth.Audience}\" }},\n");
        sb.Append(CultureInfo.InvariantCulture, $"  \"Chat\": {{ \"MaxBodyBytes\": {Chat.MaxBodyBytes}, \"SendRatePerSecond\": {Chat.SendRatePerSecond}, \"SendBurst\": {Chat.SendBurst}, \"FanoutLimit\": {Chat.FanoutLimit}, \"ResumeLimit\": {Chat.ResumeLimit}, \"TypingIntervalMs\": {(int)Chat.TypingInterval.TotalMilliseconds} }},\n");
        sb.Append(CultureInfo.InvariantCulture, $"  \"Postgres\": {{ \"ConnectionString\": {(PostgresConnectionString is null ? "null" : "\"(set)\"")}, \"BacklogBudgetMiB\": {Storage.BacklogBudgetBytes >> 20}, \"DrainBatchEntries\": {Storage.DrainBatchEntries}, \"HotEventsPerGroup\": {Storage.HotEventsPerGroup} }}\n");
        sb.Append('}');
        return sb.ToString();
    }

    private static string Lower(bool b) => b ? "true" : "false";

    private sealed class Reader(IConfiguration c)
    {
        private static readonly string[] Sections = ["Http", "Gateway", "Storage", "Auth", "Chat", "Postgres"];
        private readonly HashSet<string> _known = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>
        /// A key under a section that no option reads is a typo or an option of another version: refuse it rather than
        /// run with a setting silently ignored. Top-level keys are left alone (CHAT_ variables of other tools land there).
        /// </summary>
        public void RejectUnknownKeys()
        {
            foreach (var (key, value) in c.AsEnumerable())
            {
                var colon = key.IndexOf(':', StringComparison.Ordinal);
                if (value is null || colon < 0) continue;
                var section = key[..colon];
                if (!Sections.Contains(section, StringComparer.OrdinalIgnoreCase)) throw new ConfigException(key, $"unknown section '{section}' (sections: {string.Join(", ", Sections)})");
                var option = key.IndexOf(':', colon + 1) is var second and > 0 ? key[..second] : key;
                if (!_known.Contains(option)) throw new ConfigException(key, "unknown option");
            }
        }

        public string? String(string key, string? fallback)
        {
            _known.Add(key);
            var v = c[key];
            return string.IsNullOrEmpty(v) ? fallback : v;
        }

        public int Int(string key, int fallback, int min, int max)
        {
            _known.Add(key);
            var v = c[key];
            if (string.IsNullOrEmpty(v)) return fallback;
            if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) throw new ConfigException(key, $"'{v}' is not an integer");
            if (n < min || n > max) throw new ConfigException(key, $"{n} is outside {min}–{max}");
            return n;
        }

        public bool Bool(string key, bool fallback)
        {
            _known.Add(key);
            var v = c[key];
            if (string.IsNullOrEmpty(v)) return fallback;
            return bool.TryParse(v, out var b) ? b : throw new ConfigException(key, $"'{v}' is not true or false");
        }

        public T Enum<T>(string key, T fallback)
            where T : struct, System.Enum
        {
            _known.Add(key);
            var v = c[key];
            if (string.IsNullOrEmpty(v)) return fallback;
            return System.Enum.TryParse<T>(v, ignoreCase: true, out var e) && System.Enum.IsDefined(e)
                ? e
                : throw new ConfigException(key, $"'{v}' is not one of {string.Join(", ", System.Enum.GetNames<T>()).ToLowerInvariant()}");
        }

        public IReadOnlyList<string>? List(string key)
        {
            _known.Add(key);
            var section = c.GetSection(key);
            var list = new List<string>();
            if (section.Value is { Length: > 0 } single)
            {
                foreach (var part in single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) list.Add(part);
            }

            foreach (var child in section.GetChildren())
            {
                if (child.Value is { Length: > 0 } v) list.Add(v);
            }

            return list.Count == 0 ? null : list;
        }

        public IPEndPoint Endpoint(string key, string fallback)
        {
            var v = String(key, fallback)!;
            if (IPEndPoint.TryParse(v, out var ep) && ep.Port != 0) return ep;
            if (v.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) && int.TryParse(v[10..], out var port)) return new IPEndPoint(IPAddress.Loopback, port);
            throw new ConfigException(key, $"'{v}' is not ADDR:PORT");
        }
    }
}

internal sealed class ConfigException(string key, string message) : Exception($"{key}: {message}")
{
    public string Key { get; } = key;
}
