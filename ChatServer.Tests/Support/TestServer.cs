using System.Net;
using System.Net.Sockets;
using ChatServer.Client;
using ChatServer.Hosting;
using Microsoft.AspNetCore.Builder;

namespace ChatServer.Tests.Support;

/// <summary>
/// The real server, in this process, on loopback ports of its own and a fresh data directory.
/// Password hashing uses small Argon2 parameters so tests can register many users quickly.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private static int s_userCounter;
    private readonly WebApplication _app;
    private readonly bool _ownsData;
    private readonly HttpClient _http = new();

    private TestServer(WebApplication app, string dataDirectory, bool ownsData, int httpPort, int gatewayPort)
    {
        _app = app;
        DataDirectory = dataDirectory;
        _ownsData = ownsData;
        HttpUri = new Uri($"http://127.0.0.1:{httpPort}/");
        GatewayUri = new Uri($"ws://127.0.0.1:{gatewayPort}/v1/ws");
    }

    public string DataDirectory { get; }

    public Uri HttpUri { get; }

    public Uri GatewayUri { get; }

    internal IServiceProvider Services => _app.Services;

    public static async Task<TestServer> StartAsync(Dictionary<string, string?>? settings = null, string? dataDirectory = null, TimeProvider? time = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(settings, dataDirectory, time);
            }
            catch (IOException ex) when (attempt < 4 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // Another test took a port between FreePort() and the bind: try new ones.
            }
        }
    }

    private static async Task<TestServer> StartOnceAsync(Dictionary<string, string?>? settings, string? dataDirectory, TimeProvider? time)
    {
        var ownsData = dataDirectory is null;
        dataDirectory ??= NewDataDirectory();
        var httpPort = FreePort();
        var gatewayPort = FreePort();
        var overrides = FastSettings();
        overrides["Http:Listen"] = $"127.0.0.1:{httpPort}";
        overrides["Gateway:Listen"] = $"127.0.0.1:{gatewayPort}";
        overrides["Storage:DataDirectory"] = dataDirectory;
        if (settings is not null)
        {
            foreach (var (k, v) in settings) overrides[k] = v;
        }

        var options = ServerOptions.Load([], overrides);
        var app = ServerHost.Build(options, time);
        try
        {
            await app.StartAsync();
        }
        catch (IOException)
        {
            await app.DisposeAsync();
            throw;
        }

        return new TestServer(app, dataDirectory, ownsData, httpPort, gatewayPort);
    }

    /// <summary>Settings that keep tests fast: cheap password hashing and a generous send rate.</summary>
    public static Dictionary<string, string?> FastSettings() => new()
    {
        ["Auth:Argon2MemoryKiB"] = "64",
        ["Auth:Argon2Iterations"] = "1",
        ["Chat:SendRatePerSecond"] = "100000",
        ["Chat:SendBurst"] = "100000",
        ["Chat:TypingIntervalMs"] = "0",
    };

    public static string NewDataDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "chat-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ChatHttpClient NewHttp() => new(_http, HttpUri);

    /// <summary>Registers a fresh user and signs in; returns an HTTP client carrying its token.</summary>
    public async Task<TestUser> NewUserAsync(string? prefix = null)
    {
        var n = Interlocked.Increment(ref s_userCounter);
        var username = $"{prefix ?? "user"}{n}_{Guid.NewGuid().ToString("N")[..6]}";
        var http = NewHttp();
        var user = await http.RegisterAsync(username, $"User {n}", "password123");
        var login = await http.LoginAsync(username, "password123");
        http.AccessToken = login.AccessToken;
        return new TestUser(this, user, login, http, "password123");
    }

    public async Task<ChatSocket> ConnectAsync(ChatSocketOptions? options = null)
        => await ChatSocket.ConnectAsync(GatewayUri, options);

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
            _http.Dispose();
            if (_ownsData)
            {
                try
                {
                    Directory.Delete(DataDirectory, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}

public sealed record TestUser(TestServer Server, User User, LoginResult Login, ChatHttpClient Http, string Password)
{
    public Guid Id => User.UserId;

    public string Token => Login.AccessToken;

    /// <summary>Opens a WebSocket and completes Hello (with an optional resume map).</summary>
    public async Task<ChatSocket> ConnectAsync(IReadOnlyDictionary<Guid, long>? resume = null)
    {
        var socket = await Server.ConnectAsync();
        await socket.HelloAsync(Token, resume);
        return socket;
    }
}
