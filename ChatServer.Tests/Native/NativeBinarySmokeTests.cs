using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Native;

/// <summary>
/// Runs against the Native-AOT binary that scripts/test.sh publishes and starts (CHAT_NATIVE_HTTP and
/// CHAT_NATIVE_GATEWAY). Excluded from the ordinary run by its category; fails loudly when the binary is absent.
/// </summary>
[Trait("Category", "NativeSmoke")]
public sealed class NativeBinarySmokeTests
{
    private static Uri Http => new(Environment.GetEnvironmentVariable("CHAT_NATIVE_HTTP")
        ?? throw new InvalidOperationException("CHAT_NATIVE_HTTP is not set: run this category through scripts/test.sh"));

    private static Uri Gateway => new(Environment.GetEnvironmentVariable("CHAT_NATIVE_GATEWAY")
        ?? throw new InvalidOperationException("CHAT_NATIVE_GATEWAY is not set: run this category through scripts/test.sh"));

    [Fact]
    public async Task Native_binary_serves_accounts_groups_and_messages_over_http_and_websocket()
    {
        using var httpClient = new HttpClient();
        var http = new ChatHttpClient(httpClient, Http);
        var name = $"native_{Guid.NewGuid().ToString("N")[..8]}";
        var user = await http.RegisterAsync(name, "Native User", "password123");
        var login = await http.LoginAsync(name, "password123");
        http.AccessToken = login.AccessToken;
        var group = await http.CreateGroupAsync("native group");
        Assert.Equal(user.UserId, group.OwnerId);

        await using var socket = await ChatSocket.ConnectAsync(new Uri(Gateway, "/v1/ws"));
        var hello = await socket.HelloAsync(login.AccessToken);
        Assert.Equal(user.UserId, hello.UserId);
        var sent = await socket.SendAsync(group.GroupId, "n-1", "hello from the native binary");
        var pushed = await Pushes.NextEventAsync(socket, group.GroupId);
        Assert.Equal(sent.Seq, pushed.Seq);

        var history = await http.HistoryAsync(group.GroupId);
        Assert.Equal("hello from the native binary", history.Events[^1].Body);
        var fetched = await socket.GetGroupAsync(group.GroupId);
        Assert.Equal(sent.Seq, fetched.LastSeq);
    }

    private static string Binary => Environment.GetEnvironmentVariable("CHAT_NATIVE_BINARY")
        ?? throw new InvalidOperationException("CHAT_NATIVE_BINARY is not set: run this category through scripts/test.sh");

    [Fact]
    public void Native_binary_exits_2_on_bad_configuration_and_checks_and_prints_a_good_one()
    {
        var (bad, _, badError) = Run("--Gateway:HeartbeatMs=abc");
        Assert.Equal(2, bad);
        Assert.Contains("Gateway:HeartbeatMs", badError, StringComparison.Ordinal);
        var (check, checkOutput, _) = Run("--check-config");
        Assert.Equal(0, check);
        Assert.Contains("configuration ok", checkOutput, StringComparison.Ordinal);
        var (print, printed, _) = Run("--print-config", "--gateway", "127.0.0.1:9301");
        Assert.Equal(0, print);
        Assert.Contains("\"Listen\": \"127.0.0.1:9301\"", printed, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), "the native binary did not exit");
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public async Task Native_binary_answers_health_metrics_and_openapi()
    {
        using var httpClient = new HttpClient();
        Assert.True((await httpClient.GetAsync(new Uri(Http, "/healthz"))).IsSuccessStatusCode);
        Assert.True((await httpClient.GetAsync(new Uri(Http, "/readyz"))).IsSuccessStatusCode);
        Assert.Contains("chat_connections", await httpClient.GetStringAsync(new Uri(Http, "/metrics")), StringComparison.Ordinal);
        Assert.Contains("/v1/groups/{id}/messages", await httpClient.GetStringAsync(new Uri(Http, "/openapi/v1.json")), StringComparison.Ordinal);
    }
}
