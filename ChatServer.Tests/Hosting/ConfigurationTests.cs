using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ChatServer.Hosting;
using ChatServer.Storage;

namespace ChatServer.Tests.Hosting;

/// <summary>Configuration sources, flags and errors: ServerOptions in-process, and the server binary's exit codes.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("chat-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var o = ServerOptions.Load([]);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:8080"), o.HttpEndpoint);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:8081"), o.GatewayEndpoint);
        Assert.Equal("./data", o.Storage.DataDirectory);
        Assert.Equal(DurabilityMode.Fsync, o.Storage.Durability);
        Assert.False(o.Gateway.Echo);
        Assert.Equal(65536, o.Gateway.MaxMessageBytes);
        Assert.Equal(25_000, o.Gateway.HeartbeatMs);
        Assert.Equal(60_000, o.Gateway.IdleTimeoutMs);
        Assert.Equal(10_000, o.Gateway.HelloTimeoutMs);
        Assert.Equal(256, o.Gateway.MaxInFlight);
        Assert.Equal(1 << 20, o.Gateway.OutboundLimitBytes);
        Assert.Equal(30_000, o.Gateway.SlowConsumerTimeoutMs);
        Assert.Equal(16384, o.Chat.MaxBodyBytes);
        Assert.Equal(20, o.Chat.SendRatePerSecond);
        Assert.Equal(50, o.Chat.SendBurst);
        Assert.Equal(1000, o.Chat.FanoutLimit);
        Assert.Equal(1000, o.Chat.ResumeLimit);
        Assert.Equal(TimeSpan.FromMinutes(15), o.Auth.AccessTokenLifetime);
        Assert.Equal(19 * 1024, o.Auth.Argon2MemoryKiB);
        Assert.Equal(2, o.Auth.Argon2Iterations);
        Assert.Equal(1, o.Auth.Argon2Parallelism);
        Assert.Null(o.PostgresConnectionString);
    }

    [Fact]
    public void The_documented_config_file_loads_and_equals_the_defaults()
    {
        var file = Path.Combine(RepositoryRoot(), "config", "chatserver.json");
        Assert.Equal(ServerOptions.Load([]).Describe(), ServerOptions.Load(["--config", file]).Describe());
    }

    [Fact]
    public void The_named_flags_set_their_keys_in_both_spellings()
    {
        var o = ServerOptions.Load(["--http", "127.0.0.1:9100", "--gateway=0.0.0.0:9101", "--data", "/tmp/x", "--postgres", "Host=db"]);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:9100"), o.HttpEndpoint);
        Assert.Equal(IPEndPoint.Parse("0.0.0.0:9101"), o.GatewayEndpoint);
        Assert.Equal("/tmp/x", o.Storage.DataDirectory);
        Assert.Equal("Host=db", o.PostgresConnectionString);
        Assert.True(ServerOptions.Load(["--check-config"]).CheckConfig);
        Assert.True(ServerOptions.Load(["--print-config"]).PrintConfig);
    }

    [Fact]
    public void A_flag_overrides_the_config_file()
    {
        var file = WriteConfig("""{ "Gateway": { "HeartbeatMs": 5000, "IdleTimeoutMs": 20000 }, "Chat": { "SendBurst": 7 } }""");
        var o = ServerOptions.Load(["--config", file, "--Gateway:HeartbeatMs=6000"]);
        Assert.Equal(6000, o.Gateway.HeartbeatMs);
        Assert.Equal(20000, o.Gateway.IdleTimeoutMs);
        Assert.Equal(7, o.Chat.SendBurst);
    }

    [Fact]
    public void Echo_mode_raises_the_default_message_size_for_conformance_suites_unless_it_is_set()
    {
        Assert.Equal(16 << 20, ServerOptions.Load(["--Gateway:Echo=true"]).Gateway.MaxMessageBytes);
        Assert.Equal(4096, ServerOptions.Load(["--Gateway:Echo=true", "--Gateway:MaxMessageBytes=4096"]).Gateway.MaxMessageBytes);
    }

    [Theory]
    [InlineData("--Gateway:HeartbeatMs=abc", "Gateway:HeartbeatMs", "not an integer")]
    [InlineData("--Gateway:MaxInFlight=0", "Gateway:MaxInFlight", "outside")]
    [InlineData("--Gateway:Echo=maybe", "Gateway:Echo", "not true or false")]
    [InlineData("--Storage:Durability=sometimes", "Storage:Durability", "fsync, relaxed")]
    [InlineData("--http=localhost", "Http:Listen", "not ADDR:PORT")]
    [InlineData("--Auth:SigningKey=c2hvcnQ=", "Auth:SigningKey", "at least 32 bytes")]
    [InlineData("--Gateway:HeartbeatMz=100", "Gateway:HeartbeatMz", "unknown option")]
    [InlineData("--Gatway:Echo=true", "Gatway:Echo", "unknown section")]
    [InlineData("--verbose", "--verbose", "unknown flag")]
    public void A_bad_value_names_its_key(string arg, string key, string message)
    {
        var ex = Assert.Throws<ConfigException>(() => ServerOptions.Load([arg]));
        Assert.Equal(key, ex.Key);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_key_in_the_config_file_is_named_with_its_path()
    {
        var file = WriteConfig("""{ "Chat": { "ResumeLimit": 1000, "ResumeLimt": 5 } }""");
        Assert.Equal("Chat:ResumeLimt", Assert.Throws<ConfigException>(() => ServerOptions.Load(["--config", file])).Key);
        var missing = Path.Combine(_dir, "missing.json");
        Assert.Equal("--config", Assert.Throws<ConfigException>(() => ServerOptions.Load(["--config", missing])).Key);
    }

    [Fact]
    public void The_server_binary_exits_2_naming_the_key_checks_and_prints_the_config_and_reads_chat_environment_variables()
    {
        var bad = Run(["--Gateway:HeartbeatMs=abc"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("configuration error: Gateway:HeartbeatMs: 'abc' is not an integer", bad.Error, StringComparison.Ordinal);

        var broken = Run(["--config", WriteConfig("{ \"Gateway\": ")]);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("configuration error", broken.Error, StringComparison.Ordinal);

        var check = Run(["--check-config", "--data", _dir]);
        Assert.Equal(0, check.ExitCode);
        Assert.Contains("configuration ok", check.Output, StringComparison.Ordinal);

        var printed = Run(["--print-config", "--http", "127.0.0.1:9200"], new() { ["CHAT_Chat__SendBurst"] = "9", ["CHAT_Auth__SigningKey"] = Convert.ToBase64String(new byte[32]) });
        Assert.Equal(0, printed.ExitCode);
        using var json = JsonDocument.Parse(printed.Output);
        Assert.Equal("127.0.0.1:9200", json.RootElement.GetProperty("Http").GetProperty("Listen").GetString());
        Assert.Equal(9, json.RootElement.GetProperty("Chat").GetProperty("SendBurst").GetInt32());
        Assert.Equal("(set)", json.RootElement.GetProperty("Auth").GetProperty("SigningKey").GetString());

        var flagWins = Run(["--print-config", "--Chat:SendBurst=11"], new() { ["CHAT_Chat__SendBurst"] = "9" });
        using var flagJson = JsonDocument.Parse(flagWins.Output);
        Assert.Equal(11, flagJson.RootElement.GetProperty("Chat").GetProperty("SendBurst").GetInt32());
    }

    private string WriteConfig(string json)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private static (int ExitCode, string Output, string Error) Run(string[] args, Dictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "chatserver.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? []) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "the server process did not exit");
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Chat.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Chat.sln not found above " + AppContext.BaseDirectory);
    }
}
