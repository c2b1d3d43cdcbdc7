using Npgsql;

namespace ChatServer.Storage.Postgres;

internal sealed partial class PgDatabase
{
    /// <summary>Synchronous form of <see cref="ReadEventsAsync"/> for the rare reads that miss FASTER inside a synchronous service call.</summary>
    public List<EventRecord> ReadEvents(Guid groupId, ulong from, ulong to)
    {
        using var cmd = _source.CreateCommand(
            "SELECT group_id, seq, id, kind, actor_id, at, client_msg_id, body, target_seq, edited_at, deleted, by_user_id " +
            "FROM group_events WHERE group_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq");
        cmd.Parameters.AddWithValue(groupId);
        cmd.Parameters.AddWithValue((long)from);
        cmd.Parameters.AddWithValue((long)to);
        var list = new List<EventRecord>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(ReadEvent(r));
        return list;
    }

    /// <summary>Synchronous form of <see cref="FindClientMessageAsync"/>.</summary>
    public ulong? FindClientMessage(Guid groupId, Guid actorId, string clientMsgId)
    {
        using var cmd = _source.CreateCommand("SELECT seq FROM group_events WHERE group_id = $1 AND actor_id = $2 AND client_msg_id = $3");
        cmd.Parameters.AddWithValue(groupId);
        cmd.Parameters.AddWithValue(actorId);
        cmd.Parameters.AddWithValue(clientMsgId);
        return cmd.ExecuteScalar() is long l ? (ulong)l : null;
    }

    /// <summary>Events of one group with seq in [from, to], ascending (reads that fall through FASTER's hot window).</summary>
    public async Task<List<EventRecord>> ReadEventsAsync(Guid groupId, ulong from, ulong to, CancellationToken ct = default)
    {
        await using var cmd = _source.CreateCommand(
            "SELECT group_id, seq, id, kind, actor_id, at, client_msg_id, body, target_seq, edited_at, deleted, by_user_id " +
            "FROM group_events WHERE group_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq");
        cmd.Parameters.AddWithValue(groupId);
        cmd.Parameters.AddWithValue((long)from);
        cmd.Parameters.AddWithValue((long)to);
        var list = new List<EventRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(ReadEvent(r));
        return list;
    }

    /// <summary>The seq of a message by (group, sender, clientMsgId), for idempotent sends of groups whose history is not all local.</summary>
    public async Task<ulong?> FindClientMessageAsync(Guid groupId, Guid actorId, string clientMsgId, CancellationToken ct = default)
    {
        await using var cmd = _source.CreateCommand("SELECT seq FROM group_events WHERE group_id = $1 AND actor_id = $2 AND client_msg_id = $3");
        cmd.Parameters.AddWithValue(groupId);
        cmd.Parameters.AddWithValue(actorId);
        cmd.Parameters.AddWithValue(clientMsgId);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is long l ? (ulong)l : null;
    }

    /// <summary>
    /// Cold start: hands every user, group, member and login to <paramref name="load"/> in the store's key/value
    /// encoding, every group's newest seq as its seq record, and the seqs of message events to <paramref name="messageSeq"/>.
    /// </summary>
    public async Task LoadAsync(RecordVisitor load, Action<Guid, ulong> messageSeq, CancellationToken ct = default)
    {
        await using var conn = await _source.OpenConnectionAsync(ct);
        await using (var cmd = new NpgsqlCommand("SELECT id, username, display_name, mobile_number, password_hash, created_at FROM users", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var u = new UserRecord(r.GetGuid(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetInt64(5));
                load(StoreKeys.ForUser(u.Id), RecordCodec.Encode(u));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT id, name, description, private, owner_id, created_at FROM groups", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var g = new GroupRecord(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), r.GetGuid(4), r.GetInt64(5));
                load(StoreKeys.ForGroup(g.Id), RecordCodec.Encode(g));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT group_id, max(seq) FROM group_events GROUP BY group_id", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                load(StoreKeys.ForGroupSeq(r.GetGuid(0)), RecordCodec.EncodeUInt64((ulong)r.GetInt64(1)));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT group_id, user_id, role, joined_at, read_seq FROM group_members", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var m = new MemberRecord(r.GetGuid(0), r.GetGuid(1), (byte)r.GetInt16(2), r.GetInt64(3), (ulong)r.GetInt64(4));
                load(StoreKeys.ForMember(m.GroupId, m.UserId), RecordCodec.Encode(m));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT id, user_id, refresh_hash, refresh_expires_at, created_at, revoked, revoked_at FROM logins", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var l = new LoginRecord(r.GetGuid(0), r.GetGuid(1), (byte[])r.GetValue(2), r.GetInt64(3), r.GetInt64(4), r.GetBoolean(5), r.GetInt64(6));
                load(StoreKeys.ForLogin(l.Id), RecordCodec.Encode(l));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT group_id, seq FROM group_events WHERE kind = 1", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct)) messageSeq(r.GetGuid(0), (ulong)r.GetInt64(1));
        }
    }

    private static EventRecord ReadEvent(NpgsqlDataReader r) => new(
        r.GetGuid(0),
        (ulong)r.GetInt64(1),
        r.GetGuid(2),
        (byte)r.GetInt16(3),
        r.GetGuid(4),
        r.GetInt64(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.IsDBNull(7) ? null : r.GetString(7),
        r.IsDBNull(8) ? null : (ulong)r.GetInt64(8),
        r.IsDBNull(9) ? null : r.GetInt64(9),
        r.GetBoolean(10),
        r.IsDBNull(11) ? null : r.GetGuid(11));
}
