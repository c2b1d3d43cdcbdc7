using ChatServer.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ChatServer.Storage.Postgres;

/// <summary>
/// PostgreSQL as the system of record: schema migrations, write-through of entity changes, the idempotent
/// application of write-ahead-log mutations (used by write-through and by the write-behind drainer), and the
/// reads that fall through from FASTER.
/// </summary>
internal sealed partial class PgDatabase : IAsyncDisposable
{
    private const long MigrationLockKey = 0x63686174_73727672; // "chatsrvr"
    private readonly NpgsqlDataSource _source;
    private readonly ILogger _logger;

    public PgDatabase(string connectionString, ILogger<PgDatabase> logger)
    {
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
        if (connectionString.Contains("SSL Mode", StringComparison.OrdinalIgnoreCase) || connectionString.Contains("SslMode", StringComparison.OrdinalIgnoreCase))
        {
            builder.EnableTransportSecurity();
        }

        _source = builder.Build();
        _logger = logger;
    }

    public NpgsqlDataSource Source => _source;

    /// <summary>Applies pending migrations under an advisory lock, so concurrent starts are safe.</summary>
    public async Task MigrateAsync(CancellationToken ct = default)
    {
        await using var conn = await _source.OpenConnectionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_lock($1)", conn))
        {
            lockCmd.Parameters.AddWithValue(MigrationLockKey);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }

        try
        {
            await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", conn))
            {
                await create.ExecuteNonQueryAsync(ct);
            }

            var applied = new HashSet<int>();
            await using (var read = new NpgsqlCommand("SELECT version FROM schema_migrations", conn))
            await using (var reader = await read.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) applied.Add(reader.GetInt32(0));
            }

            foreach (var (version, name, sql) in PgMigrations.All)
            {
                if (applied.Contains(version)) continue;
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand(sql, conn, tx)) await cmd.ExecuteNonQueryAsync(ct);
                await using (var mark = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", conn, tx))
                {
                    mark.Parameters.AddWithValue(version);
                    mark.Parameters.AddWithValue(name);
                    await mark.ExecuteNonQueryAsync(ct);
                }

                await tx.CommitAsync(ct);
                Log.Migrated(_logger, version, name);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", conn);
            unlock.Parameters.AddWithValue(MigrationLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Write-through: applies one operation's mutations in one transaction. Returns false when a unique
    /// constraint (a taken username) rejects it; PostgreSQL decides uniqueness.
    /// </summary>
    public async Task<bool> WriteThroughAsync(IReadOnlyList<Mutation> mutations, CancellationToken ct = default)
    {
        var changes = new ChangeSet();
        foreach (var m in mutations) changes.Add(m);
        await using var conn = await _source.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        try
        {
            await changes.ApplyAsync(conn, tx, ct);
            await tx.CommitAsync(ct);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "users_username_ci")
        {
            await tx.RollbackAsync(CancellationToken.None);
            return false;
        }
    }

    /// <summary>Applies the mutations of many log entries (in log order) and records the drain position, in one transaction.</summary>
    public async Task DrainAsync(Guid nodeId, IReadOnlyList<List<Mutation>> entries, long position, CancellationToken ct)
    {
        // Only the final state of each key matters (every mutation carries a key's full value), so the batch is
        // reduced per key first and then applied in bulk: replaying it never duplicates or regresses a row.
        var changes = new ChangeSet(writeBehind: true);
        foreach (var entry in entries)
        {
            foreach (var m in entry) changes.Add(m);
        }

        // Large batches: half of the groups' events go through a second connection in parallel (PostgreSQL's index
        // maintenance is the cost, and it uses one core per connection). It commits first; the position is recorded
        // only in the transaction that commits after it, so a crash in between only means a re-drain of rows that
        // the upsert makes idempotent.
        if (changes.EventCount >= 2 * ParallelDrainThreshold)
        {
            var half = changes.SplitEvents();
            var other = ApplyOnOwnConnectionAsync(half, ct);
            await ApplyWithPositionAsync(changes, nodeId, position, other, ct);
        }
        else
        {
            await ApplyWithPositionAsync(changes, nodeId, position, null, ct);
        }
    }

    private const int ParallelDrainThreshold = 2_000;

    private async Task ApplyOnOwnConnectionAsync(ChangeSet changes, CancellationToken ct)
    {
        await using var conn = await _source.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await changes.ApplyAsync(conn, tx, ct);
        await tx.CommitAsync(ct);
    }

    private async Task ApplyWithPositionAsync(ChangeSet changes, Guid nodeId, long position, Task? before, CancellationToken ct)
    {
        await using var conn = await _source.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await changes.ApplyAsync(conn, tx, ct);
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO drain_positions (node_id, wal_address) VALUES ($1, $2) ON CONFLICT (node_id) DO UPDATE SET wal_address = EXCLUDED.wal_address, updated_at = now()", conn, tx))
        {
            cmd.Parameters.AddWithValue(nodeId);
            cmd.Parameters.AddWithValue(position);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        if (before is not null) await before;
        await tx.CommitAsync(ct);
    }

    public async Task<long> ReadDrainPositionAsync(Guid nodeId, CancellationToken ct)
    {
        await using var cmd = _source.CreateCommand("SELECT wal_address FROM drain_positions WHERE node_id = $1");
        cmd.Parameters.AddWithValue(nodeId);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is long l ? l : 0;
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "PostgreSQL migration {Version} applied: {Name}")]
        public static partial void Migrated(ILogger logger, int version, string name);
    }
}
