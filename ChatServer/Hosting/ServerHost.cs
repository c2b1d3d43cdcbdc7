using ChatServer.Auth;
using ChatServer.Chat;
using ChatServer.Gateway;
using ChatServer.Http;
using ChatServer.Storage;
using ChatServer.Storage.Postgres;
using Microsoft.AspNetCore.Connections;

namespace ChatServer.Hosting;

/// <summary>Builds and runs the server: options, storage, services, the HTTP API and the WebSocket gateway.</summary>
internal static class ServerHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        ServerOptions options;
        try
        {
            options = ServerOptions.Load(args);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync($"chatserver: configuration error: {ex.Message}");
            return 2;
        }

        if (options.PrintConfig)
        {
            Console.WriteLine(options.Describe());
            return 0;
        }

        if (options.CheckConfig)
        {
            Console.WriteLine("configuration ok");
            return 0;
        }

        await using var app = Build(options);
        await app.RunAsync();
        return 0;
    }

    /// <summary>Builds the application with its storage opened (tests run it in-process).</summary>
    public static WebApplication Build(ServerOptions options, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 256 * 1024;
            k.Listen(options.HttpEndpoint);
            k.Listen(options.GatewayEndpoint, l => l.UseConnectionHandler<GatewayConnectionHandler>());
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(options.Gateway);
        services.AddSingleton(options.Storage);
        services.AddSingleton(options.Auth);
        services.AddSingleton(options.Chat);
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddSingleton<StorageEngine>();
        services.AddSingleton<ChatState>();
        services.AddSingleton(sp => new PasswordHasher(options.Auth));
        services.AddSingleton(sp => new TokenService(
            options.Auth,
            SigningKeyStore.LoadOrCreate(options.Auth.SigningKey, Path.GetFullPath(options.Storage.DataDirectory)),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AccountService>();
        services.AddSingleton<GroupService>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<Metrics>();
        services.AddHostedService<Heartbeat>();
        services.AddHostedService<StorageLifetime>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));

        if (options.PostgresConnectionString is { } pgConnection)
        {
            services.AddSingleton(sp => new PgDatabase(pgConnection, sp.GetRequiredService<ILogger<PgDatabase>>()));
        }

        var app = builder.Build();
        Directory.CreateDirectory(Path.GetFullPath(options.Storage.DataDirectory));
        var state = app.Services.GetRequiredService<ChatState>();
        var store = app.Services.GetRequiredService<StorageEngine>();
        var pg = app.Services.GetService<PgDatabase>();
        if (pg is not null)
        {
            PrepareAsync(pg).GetAwaiter().GetResult();
            store.AttachPostgres(pg);
            state.EntitiesFromPostgres = true;
        }

        store.Open(state.Load);
        pg?.LoadAsync(state.LoadFromPostgres, state.LoadMessageSeq).GetAwaiter().GetResult();
        state.FinishLoad();
        var registry = app.Services.GetRequiredService<SessionRegistry>();
        app.Services.GetRequiredService<AccountService>().Attach(registry);
        app.Services.GetRequiredService<GroupService>().Attach(registry);
        ApiEndpoints.Map(app);
        return app;
    }

    /// <summary>Waits (up to a minute) for PostgreSQL, then applies the migrations.</summary>
    private static async Task PrepareAsync(PgDatabase pg)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                await pg.MigrateAsync();
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }
}

/// <summary>
/// On stop: before Kestrel stops (StoppingAsync runs ahead of every StopAsync), say Goodbye server_shutdown
/// and close 1001 to every session; after it, flush the log and checkpoint the store.
/// </summary>
internal sealed class StorageLifetime(StorageEngine store, SessionRegistry sessions) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => sessions.ShutdownAsync();

    public async Task StopAsync(CancellationToken cancellationToken) => await store.DisposeAsync();

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
