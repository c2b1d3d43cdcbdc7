using System.Diagnostics;
using Npgsql;

namespace ChatServer.Tests.Postgres;

/// <summary>
/// A fresh database on the PostgreSQL that scripts/test.sh starts (CHAT_TEST_POSTGRES). Fails loudly when it
/// is not configured: these tests never pass silently without a database.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private PostgresDatabase(string connectionString, string adminConnectionString, string name)
    {
        ConnectionString = connectionString;
        AdminConnectionString = adminConnectionString;
        Name = name;
    }

    public string ConnectionString { get; }

    public string AdminConnectionString { get; }

    public string Name { get; }

    public static string BaseConnectionString => Environment.GetEnvironmentVariable("CHAT_TEST_POSTGRES")
        ?? throw new InvalidOperationException("CHAT_TEST_POSTGRES is not set: PostgreSQL tests need the database that `make test` starts");

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var admin = BaseConnectionString;
        var name = "chat_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new PostgresDatabase(builder.ConnectionString, admin, name);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        var value = await cmd.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<List<object?[]>> RowsAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await r.ReadAsync())
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }

        return rows;
    }

    public async Task ExecAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Polls until <paramref name="condition"/> holds, or fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }

        throw new TimeoutException($"timed out waiting for {what}");
    }

    /// <summary>Stops the whole PostgreSQL server (an outage for every test database).</summary>
    public static void StopServer() => PgCtl("stop -m fast -w");

    public static void StartServer() => PgCtl("start -w");

    private static void PgCtl(string action)
    {
        var bin = Environment.GetEnvironmentVariable("CHAT_TEST_PGBIN") ?? throw new InvalidOperationException("CHAT_TEST_PGBIN is not set");
        var data = Environment.GetEnvironmentVariable("CHAT_TEST_PGDATA")!;
        var port = Environment.GetEnvironmentVariable("CHAT_TEST_PGPORT")!;
        var socket = Environment.GetEnvironmentVariable("CHAT_TEST_PGSOCKET")!;
        var command = $"{bin}/pg_ctl -D {data} -l {socket}/pg.log -o \"-p {port} -k {socket} -c listen_addresses=127.0.0.1 -c fsync=off\" {action}";
        using var p = Process.Start(new ProcessStartInfo("su", ["postgres", "-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"pg_ctl {action} failed: {p.StandardError.ReadToEnd()}");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(AdminConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
