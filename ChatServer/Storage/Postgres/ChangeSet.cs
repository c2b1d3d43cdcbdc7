using Npgsql;
using NpgsqlTypes;

namespace ChatServer.Storage.Postgres;

/// <summary>
/// The final state of every key touched by a run of log mutations (last write wins; a delete is a state too),
/// applied to PostgreSQL in bulk: events and members by binary COPY into temporary tables and one idempotent
/// upsert each, the rare entity rows one statement each.
/// </summary>
internal sealed class ChangeSet
{
    /// <param name="writeBehind">
    /// Applied by the drainer, after the fact: users, groups, logins and memberships were already written through
    /// (PostgreSQL took them before the log did), so re-applying their logged state could only move a row back to an
    /// older value for a while (a role set after the logged entry, a login revoked since, a member removed since).
    /// Only what is written behind is applied: events, and members' read positions (never lowered).
    /// </param>
    public ChangeSet(bool writeBehind = false) => _writeBehind = writeBehind;

    private readonly bool _writeBehind;

    // Events by group, each group's in log (= seq) order: copied group by group, consecutive rows land next to
    // each other in both B-trees, which roughly halves PostgreSQL's work per row against log order.
    private readonly Dictionary<Guid, Dictionary<ulong, EventRecord>> _events = new();
    private int _eventCount;
    private readonly Dictionary<(Guid, Guid), MemberRecord?> _members = new();
    private readonly Dictionary<Guid, UserRecord> _users = new();
    private readonly Dictionary<Guid, GroupRecord> _groups = new();
    private readonly Dictionary<Guid, LoginRecord> _logins = new();

    public void Add(Mutation m)
    {
        switch (m.Key[0])
        {
            case StoreKeys.Event when m.Value is not null:
                AddEvent(RecordCodec.DecodeEvent(m.Value));
                break;
            case StoreKeys.Member:
                var key = (StoreKeys.ReadGuid(m.Key, 1), StoreKeys.ReadGuid(m.Key, 17));
                _members[key] = m.Value is null ? null : RecordCodec.DecodeMember(m.Value);
                break;
            case StoreKeys.User when m.Value is not null:
                var u = RecordCodec.DecodeUser(m.Value);
                _users[u.Id] = u;
                break;
            case StoreKeys.Group when m.Value is not null:
                var g = RecordCodec.DecodeGroup(m.Value);
                _groups[g.Id] = g;
                break;
            case StoreKeys.Login when m.Value is not null:
                var l = RecordCodec.DecodeLogin(m.Value);
                _logins[l.Id] = l;
                break;
        }
    }

    private void AddEvent(EventRecord ev)
    {
        if (!_events.TryGetValue(ev.GroupId, out var group)) _events[ev.GroupId] = group = new Dictionary<ulong, EventRecord>();
        if (group.TryAdd(ev.Seq, ev)) _eventCount++;
        else group[ev.Seq] = ev;
    }

    public int EventCount => _eventCount;

    /// <summary>Splits off the events of about half the groups (by group id) so two connections can apply them in parallel.</summary>
    public ChangeSet SplitEvents()
    {
        var other = new ChangeSet(_writeBehind);
        foreach (var (groupId, events) in _events)
        {
            if ((groupId.GetHashCode() & 1) == 0) continue;
            other._events[groupId] = events;
            other._eventCount += events.Count;
        }

        foreach (var groupId in other._events.Keys) _events.Remove(groupId);
        _eventCount -= other._eventCount;
        return other;
    }

    public async Task ApplyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        if (_writeBehind)
        {
            if (_members.Count > 0) await ApplyReadPositionsAsync(conn, tx, ct);
            if (_events.Count > 0) await ApplyEventsAsync(conn, tx, ct);
            return;
        }

        foreach (var u in _users.Values)
        {
            await ExecAsync(conn, tx, ct,
                "INSERT INTO users (id, username, display_name, mobile_number, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) " +
                "ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name, mobile_number = EXCLUDED.mobile_number, password_hash = EXCLUDED.password_hash",
                u.Id, u.Username, u.DisplayName, (object?)u.MobileNumber ?? DBNull.Value, u.PasswordHash, u.CreatedAtMs);
        }

        foreach (var g in _groups.Values)
        {
            await ExecAsync(conn, tx, ct,
                "INSERT INTO groups (id, name, description, private, owner_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) " +
                "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, private = EXCLUDED.private, owner_id = EXCLUDED.owner_id",
                g.Id, g.Name, g.Description, g.IsPrivate, g.OwnerId, g.CreatedAtMs);
        }

        foreach (var l in _logins.Values)
        {
            await ExecAsync(conn, tx, ct,
                "INSERT INTO logins (id, user_id, refresh_hash, refresh_expires_at, created_at, revoked, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) " +
                "ON CONFLICT (id) DO UPDATE SET refresh_hash = EXCLUDED.refresh_hash, refresh_expires_at = EXCLUDED.refresh_expires_at, revoked = EXCLUDED.revoked, revoked_at = EXCLUDED.revoked_at",
                l.Id, l.UserId, l.RefreshTokenHash, l.RefreshExpiresAtMs, l.CreatedAtMs, l.Revoked, l.RevokedAtMs);
        }

        if (_members.Count > 0) await ApplyMembersAsync(conn, tx, ct);
        if (_events.Count > 0) await ApplyEventsAsync(conn, tx, ct);
    }

    /// <summary>The read positions of the batch's member rows that still exist (the same membership: same join time), each only raised.</summary>
    private async Task ApplyReadPositionsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await CopyMembersAsync(conn, tx, ct);
        await ExecAsync(conn, tx, ct,
            "UPDATE group_members m SET read_seq = d.read_seq FROM drain_members d " +
            "WHERE m.group_id = d.group_id AND m.user_id = d.user_id AND m.joined_at = d.joined_at AND m.read_seq < d.read_seq");
    }

    private async Task ApplyMembersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        var upserts = 0;
        foreach (var (key, member) in _members)
        {
            if (member is null)
            {
                await ExecAsync(conn, tx, ct, "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2", key.Item1, key.Item2);
            }
            else
            {
                upserts++;
            }
        }

        if (upserts == 0) return;
        await CopyMembersAsync(conn, tx, ct);
        await ExecAsync(conn, tx, ct,
            "INSERT INTO group_members SELECT * FROM drain_members ON CONFLICT (group_id, user_id) DO UPDATE SET role = EXCLUDED.role, read_seq = EXCLUDED.read_seq");
    }

    /// <summary>The batch's member rows (not the deletions) into the temporary table drain_members.</summary>
    private async Task CopyMembersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await ExecAsync(conn, tx, ct, "CREATE TEMP TABLE IF NOT EXISTS drain_members (LIKE group_members) ON COMMIT DELETE ROWS");
        await using (var copy = await conn.BeginBinaryImportAsync("COPY drain_members (group_id, user_id, role, joined_at, read_seq) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var member in _members.Values)
            {
                if (member is null) continue;
                copy.StartRow();
                copy.Write(member.GroupId, NpgsqlDbType.Uuid);
                copy.Write(member.UserId, NpgsqlDbType.Uuid);
                copy.Write((short)member.Role, NpgsqlDbType.Smallint);
                copy.Write(member.JoinedAtMs, NpgsqlDbType.Bigint);
                copy.Write((long)member.ReadSeq, NpgsqlDbType.Bigint);
            }

            await copy.CompleteAsync(ct);
        }
    }

    /// <summary>
    /// Events: in the steady state every row is new, so they are copied straight into group_events (one pass).
    /// When some already exist — a re-drained range after a crash, or an edit or delete rewriting an older
    /// message — that COPY fails on the primary key, and the batch goes through a temporary table and one
    /// idempotent upsert instead (edits and deletes update their target rows).
    /// </summary>
    private async Task ApplyEventsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await tx.SaveAsync("events", ct);
        try
        {
            await CopyEventsAsync(conn, "group_events", ct);
            await tx.ReleaseAsync("events", ct);
            return;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await tx.RollbackAsync("events", ct);
        }

        await ExecAsync(conn, tx, ct, "CREATE TEMP TABLE IF NOT EXISTS drain_events (LIKE group_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
        await CopyEventsAsync(conn, "drain_events", ct);
        await ExecAsync(conn, tx, ct,
            "INSERT INTO group_events SELECT * FROM drain_events ON CONFLICT (group_id, seq) DO UPDATE SET body = EXCLUDED.body, edited_at = EXCLUDED.edited_at, deleted = EXCLUDED.deleted");
    }

    private async Task CopyEventsAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        await using var copy = await conn.BeginBinaryImportAsync(
            $"COPY {table} (group_id, seq, id, kind, actor_id, at, client_msg_id, body, target_seq, edited_at, deleted, by_user_id) FROM STDIN (FORMAT BINARY)", ct);

        // Synchronous writes: they only touch the socket when Npgsql's buffer fills, and one await per field
        // costs more than the COPY itself at 100,000 rows.
        foreach (var e in _events.Values.SelectMany(group => group.Values))
        {
            copy.StartRow();
            copy.Write(e.GroupId, NpgsqlDbType.Uuid);
            copy.Write((long)e.Seq, NpgsqlDbType.Bigint);
            copy.Write(e.Id, NpgsqlDbType.Uuid);
            copy.Write((short)e.Kind, NpgsqlDbType.Smallint);
            copy.Write(e.ActorId, NpgsqlDbType.Uuid);
            copy.Write(e.AtMs, NpgsqlDbType.Bigint);
            if (e.ClientMsgId is null) copy.WriteNull(); else copy.Write(e.ClientMsgId, NpgsqlDbType.Text);
            if (e.Body is null) copy.WriteNull(); else copy.Write(e.Body, NpgsqlDbType.Text);
            if (e.TargetSeq is { } t) copy.Write((long)t, NpgsqlDbType.Bigint); else copy.WriteNull();
            if (e.EditedAtMs is { } ea) copy.Write(ea, NpgsqlDbType.Bigint); else copy.WriteNull();
            copy.Write(e.Deleted, NpgsqlDbType.Boolean);
            if (e.ByUserId is { } by) copy.Write(by, NpgsqlDbType.Uuid); else copy.WriteNull();
        }

        await copy.CompleteAsync(ct);
    }

    private static async Task ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct, string sql, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
