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
        await using var conn = await _source.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        try
        {
            var events = new Dictionary<(Guid, ulong), EventRecord>();
            foreach (var m in mutations) await ApplyAsync(conn, tx, m, events, ct);
            if (events.Count > 0) await UpsertEventsAsync(conn, tx, events.Values, ct);
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
        await using var conn = await _source.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var events = new Dictionary<(Guid, ulong), EventRecord>();
        foreach (var entry in entries)
        {
            foreach (var m in entry) await ApplyAsync(conn, tx, m, events, ct);
        }

        if (events.Count > 0) await UpsertEventsAsync(conn, tx, events.Values, ct);
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO drain_positions (node_id, wal_address) VALUES ($1, $2) ON CONFLICT (node_id) DO UPDATE SET wal_address = EXCLUDED.wal_address, updated_at = now()", conn, tx))
        {
            cmd.Parameters.AddWithValue(nodeId);
            cmd.Parameters.AddWithValue(position);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
    }

    public async Task<long> ReadDrainPositionAsync(Guid nodeId, CancellationToken ct)
    {
        await using var cmd = _source.CreateCommand("SELECT wal_address FROM drain_positions WHERE node_id = $1");
        cmd.Parameters.AddWithValue(nodeId);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is long l ? l : 0;
    }

    /// <summary>Events are collected per (group, seq), last write wins, and upserted in bulk; other keys are applied one by one.</summary>
    private static async Task ApplyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Mutation m, Dictionary<(Guid, ulong), EventRecord> events, CancellationToken ct)
    {
        switch (m.Key[0])
        {
            case StoreKeys.Event when m.Value is not null:
                var ev = RecordCodec.DecodeEvent(m.Value);
                events[(ev.GroupId, ev.Seq)] = ev;
                break;
            case StoreKeys.User when m.Value is not null:
                var u = RecordCodec.DecodeUser(m.Value);
                await ExecAsync(conn, tx, ct,
                    "INSERT INTO users (id, username, display_name, mobile_number, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) " +
                    "ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name, mobile_number = EXCLUDED.mobile_number, password_hash = EXCLUDED.password_hash",
                    u.Id, u.Username, u.DisplayName, (object?)u.MobileNumber ?? DBNull.Value, u.PasswordHash, u.CreatedAtMs);
                break;
            case StoreKeys.Group when m.Value is not null:
                var g = RecordCodec.DecodeGroup(m.Value);
                await ExecAsync(conn, tx, ct,
                    "INSERT INTO groups (id, name, description, private, owner_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) " +
                    "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, private = EXCLUDED.private, owner_id = EXCLUDED.owner_id",
                    g.Id, g.Name, g.Description, g.IsPrivate, g.OwnerId, g.CreatedAtMs);
                break;
            case StoreKeys.Member when m.Value is not null:
                var mem = RecordCodec.DecodeMember(m.Value);
                await ExecAsync(conn, tx, ct,
                    "INSERT INTO group_members (group_id, user_id, role, joined_at, read_seq) VALUES ($1, $2, $3, $4, $5) " +
                    "ON CONFLICT (group_id, user_id) DO UPDATE SET role = EXCLUDED.role, read_seq = EXCLUDED.read_seq",
                    mem.GroupId, mem.UserId, (short)mem.Role, mem.JoinedAtMs, (long)mem.ReadSeq);
                break;
            case StoreKeys.Member:
                await ExecAsync(conn, tx, ct, "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
                    StoreKeys.ReadGuid(m.Key, 1), StoreKeys.ReadGuid(m.Key, 17));
                break;
            case StoreKeys.Login when m.Value is not null:
                var l = RecordCodec.DecodeLogin(m.Value);
                await ExecAsync(conn, tx, ct,
                    "INSERT INTO logins (id, user_id, refresh_hash, refresh_expires_at, created_at, revoked, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) " +
                    "ON CONFLICT (id) DO UPDATE SET refresh_hash = EXCLUDED.refresh_hash, refresh_expires_at = EXCLUDED.refresh_expires_at, revoked = EXCLUDED.revoked, revoked_at = EXCLUDED.revoked_at",
                    l.Id, l.UserId, l.RefreshTokenHash, l.RefreshExpiresAtMs, l.CreatedAtMs, l.Revoked, l.RevokedAtMs);
                break;
        }
    }

    /// <summary>Binary COPY into a temporary table, then one idempotent upsert: replaying a batch never duplicates a row.</summary>
    private static async Task UpsertEventsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IEnumerable<EventRecord> events, CancellationToken ct)
    {
        await ExecAsync(conn, tx, ct, "CREATE TEMP TABLE IF NOT EXISTS drain_events (LIKE group_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
        await using (var copy = await conn.BeginBinaryImportAsync(
            "COPY drain_events (group_id, seq, id, kind, actor_id, at, client_msg_id, body, target_seq, edited_at, deleted, by_user_id) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var e in events)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(e.GroupId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync((long)e.Seq, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(e.Id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync((short)e.Kind, NpgsqlDbType.Smallint, ct);
                await copy.WriteAsync(e.ActorId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(e.AtMs, NpgsqlDbType.Bigint, ct);
                if (e.ClientMsgId is null) await copy.WriteNullAsync(ct); else await copy.WriteAsync(e.ClientMsgId, NpgsqlDbType.Text, ct);
                if (e.Body is null) await copy.WriteNullAsync(ct); else await copy.WriteAsync(e.Body, NpgsqlDbType.Text, ct);
                if (e.TargetSeq is { } t) await copy.WriteAsync((long)t, NpgsqlDbType.Bigint, ct); else await copy.WriteNullAsync(ct);
                if (e.EditedAtMs is { } ea) await copy.WriteAsync(ea, NpgsqlDbType.Bigint, ct); else await copy.WriteNullAsync(ct);
                await copy.WriteAsync(e.Deleted, NpgsqlDbType.Boolean, ct);
                if (e.ByUserId is { } by) await copy.WriteAsync(by, NpgsqlDbType.Uuid, ct); else await copy.WriteNullAsync(ct);
            }

            await copy.CompleteAsync(ct);
        }

        await ExecAsync(conn, tx, ct,
            "INSERT INTO group_events SELECT * FROM drain_events ON CONFLICT (group_id, seq) DO UPDATE SET body = EXCLUDED.body, edited_at = EXCLUDED.edited_at, deleted = EXCLUDED.deleted");
    }

    private static async Task ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct, string sql, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "PostgreSQL migration {Version} applied: {Name}")]
        public static partial void Migrated(ILogger logger, int version, string name);
    }
}
