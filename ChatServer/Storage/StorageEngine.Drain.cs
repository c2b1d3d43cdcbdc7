using ChatServer.Storage.Postgres;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace ChatServer.Storage;

/// <summary>
/// Write-behind to PostgreSQL: one drainer reads the write-ahead log from the last position PostgreSQL
/// confirmed, applies large batches idempotently (events by binary COPY), records the new position in the
/// same transaction, and lets the log truncate what PostgreSQL holds. While PostgreSQL is down or slow the
/// log grows; past the disk budget, changes are refused (never silently dropped).
/// </summary>
internal sealed partial class StorageEngine
{
    private readonly Queue<(long Address, long CommittedAtMs, long Entries)> _commitMarks = new();
    private long _drainedAddress = -1;
    private long _drainedEntries;
    private long _drainErrors;
    private volatile bool _postgresHealthy = true;
    private Task _drainer = Task.CompletedTask;
    private PgDatabase? _pg;
    private Dictionary<Guid, ulong>? _trimmedUpTo;

    /// <summary>Whether a PostgreSQL write-behind is attached.</summary>
    public bool HasPostgres => _pg is not null;

    public bool PostgresHealthy => _postgresHealthy;

    public long DrainErrors => Interlocked.Read(ref _drainErrors);

    /// <summary>Log bytes not yet confirmed by PostgreSQL.</summary>
    public long BacklogBytes => _pg is null ? 0 : Math.Max(0, _wal.TailAddress - Math.Max(Interlocked.Read(ref _drainedAddress), _wal.BeginAddress));

    /// <summary>Log entries committed and not yet confirmed by PostgreSQL.</summary>
    public long BacklogEntries => _pg is null ? 0 : Math.Max(0, EntriesCommitted - Interlocked.Read(ref _drainedEntries));

    /// <summary>Age in seconds of the oldest committed entry PostgreSQL does not hold yet (0 when drained).</summary>
    public double BacklogSeconds
    {
        get
        {
            if (_pg is null) return 0;
            var drained = Interlocked.Read(ref _drainedAddress);
            lock (_commitMarks)
            {
                foreach (var mark in _commitMarks)
                {
                    if (mark.Address > drained) return Math.Max(0, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - mark.CommittedAtMs) / 1000.0);
                }
            }

            return 0;
        }
    }

    /// <summary>True when the undrained log has reached its disk budget: new changes get <c>unavailable</c>.</summary>
    public bool BacklogFull => _pg is not null && BacklogBytes >= _options.BacklogBudgetBytes;

    /// <summary>Attaches PostgreSQL before <see cref="Open"/>: the log keeps everything until the drainer confirms it.</summary>
    public void AttachPostgres(PgDatabase pg)
    {
        _pg = pg;
        TruncateLimit = 0;
    }

    /// <summary>
    /// Write-through of a rare change (users, groups, members, logins and their events): committed in
    /// PostgreSQL before the log, so an acknowledged change is in the system of record. Returns false when
    /// PostgreSQL rejects it as a duplicate username. Without PostgreSQL it does nothing.
    /// </summary>
    public async Task<bool> WriteThroughAsync(List<Mutation> mutations)
    {
        if (_pg is null) return true;
        if (BacklogFull) throw new StorageUnavailableException("the PostgreSQL write-behind backlog has reached its disk budget");
        try
        {
            return await _pg.WriteThroughAsync(mutations);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new StorageUnavailableException("PostgreSQL is unavailable", ex);
        }
    }

    /// <summary>Events of a group that FASTER no longer (or never) held, from PostgreSQL; empty without it.</summary>
    public List<EventRecord> ReadEventsFromPostgres(Guid groupId, ulong from, ulong to)
    {
        if (_pg is null || from > to) return [];
        try
        {
            return _pg.ReadEvents(groupId, from, to);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new StorageUnavailableException("PostgreSQL is unavailable", ex);
        }
    }

    /// <summary>The seq of a message by (group, sender, clientMsgId) in PostgreSQL, or null.</summary>
    public ulong? FindClientMessageInPostgres(Guid groupId, Guid senderId, string clientMsgId)
    {
        if (_pg is null) return null;
        try
        {
            return _pg.FindClientMessage(groupId, senderId, clientMsgId);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new StorageUnavailableException("PostgreSQL is unavailable", ex);
        }
    }

    private void NoteCommit(long address, long entries)
    {
        if (_pg is null) return;
        lock (_commitMarks)
        {
            _commitMarks.Enqueue((address, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), entries));
            if (_commitMarks.Count > 100_000) _commitMarks.Dequeue();
        }
    }

    private void StartDrainer()
    {
        if (_pg is null) return;
        _trimmedUpTo = new Dictionary<Guid, ulong>();
        _drainer = Task.Run(() => RunDrainerAsync(_pg, _stopping.Token));
    }

    private async Task RunDrainerAsync(PgDatabase pg, CancellationToken stopping)
    {
        var nodeId = NodeId.LoadOrCreate(_options.DataDirectory);
        long position;
        while (true)
        {
            try
            {
                position = await pg.ReadDrainPositionAsync(nodeId, stopping);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _postgresHealthy = false;
                Log.DrainFailed(_logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping);
            }
        }

        position = Math.Max(position, _wal.BeginAddress);
        Interlocked.Exchange(ref _drainedAddress, position);
        TruncateLimit = position;
        using var session = NewSession();
        using var iterator = _wal.Scan(position, long.MaxValue);
        var batch = new List<List<Mutation>>(_options.DrainBatchEntries);
        var ahead = new List<List<Mutation>>(_options.DrainBatchEntries);
        long batchEnd = position;
        long aheadEnd = position;
        var delay = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            if (batch.Count == 0)
            {
                (batch, ahead) = (ahead, batch);
                batchEnd = Math.Max(batchEnd, aheadEnd);
                batchEnd = ReadBatch(iterator, batch, batchEnd);
            }

            if (batch.Count == 0)
            {
                await iterator.WaitAsync(stopping);
                continue;
            }

            try
            {
                var drain = pg.DrainAsync(nodeId, batch, batchEnd, stopping);

                // Read and decode the next batch while PostgreSQL takes this one.
                if (ahead.Count == 0) aheadEnd = ReadBatch(iterator, ahead, batchEnd);
                await drain;
                _postgresHealthy = true;
                delay = TimeSpan.FromMilliseconds(100);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                _postgresHealthy = false;
                Interlocked.Increment(ref _drainErrors);
                Log.DrainFailed(_logger, ex);
                await Task.Delay(delay, stopping);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
                continue;
            }

            Interlocked.Exchange(ref _drainedAddress, batchEnd);
            Interlocked.Add(ref _drainedEntries, batch.Count);
            TruncateLimit = batchEnd;
            lock (_commitMarks)
            {
                while (_commitMarks.Count > 0 && _commitMarks.Peek().Address <= batchEnd) _commitMarks.Dequeue();
            }

            TrimHotWindow(session, batch);
            batch.Clear();
        }
    }

    /// <summary>Appends the next committed log entries to <paramref name="batch"/> (up to the batch size); returns the address after the last one.</summary>
    private long ReadBatch(FasterLogScanIterator iterator, List<List<Mutation>> batch, long end)
    {
        while (batch.Count < _options.DrainBatchEntries && iterator.GetNext(out byte[] entry, out var length, out _, out var next))
        {
            batch.Add(WalEntry.Decode(entry.AsSpan(0, length)));
            end = next;
        }

        return end;
    }

    /// <summary>Drops events older than the hot window from FASTER once PostgreSQL holds them; reads of them fall through.</summary>
    private void TrimHotWindow(KvSession session, List<List<Mutation>> batch)
    {
        if (_options.HotEventsPerGroup <= 0) return;
        var newest = new Dictionary<Guid, ulong>();
        foreach (var entry in batch)
        {
            foreach (var m in entry)
            {
                if (m.Key[0] != StoreKeys.Event || m.Key.Length != 25) continue;
                var group = StoreKeys.ReadGuid(m.Key, 1);
                var seq = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(m.Key.AsSpan(17));
                if (!newest.TryGetValue(group, out var n) || seq > n) newest[group] = seq;
            }
        }

        Span<byte> key = stackalloc byte[25];
        foreach (var (group, top) in newest)
        {
            if (top <= (ulong)_options.HotEventsPerGroup) continue;
            var keepFrom = top - (ulong)_options.HotEventsPerGroup + 1;
            _trimmedUpTo!.TryGetValue(group, out var trimmed);
            for (var seq = trimmed + 1; seq < keepFrom; seq++)
            {
                StoreKeys.WriteEventKey(key, group, seq);
                session.Delete(key);
            }

            _trimmedUpTo[group] = keepFrom - 1;
        }
    }
}

/// <summary>This node's identity (the key of its drain position in PostgreSQL), kept in the data directory.</summary>
internal static class NodeId
{
    public static Guid LoadOrCreate(string dataDirectory)
    {
        var path = Path.Combine(Path.GetFullPath(dataDirectory), "node.id");
        if (File.Exists(path) && Guid.TryParse(File.ReadAllText(path).Trim(), out var id)) return id;
        id = Guid.CreateVersion7();
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, id.ToString("D"));
        File.Move(tmp, path, overwrite: true);
        return id;
    }
}
