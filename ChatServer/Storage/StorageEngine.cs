using System.Buffers;
using System.Collections.Concurrent;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace ChatServer.Storage;

/// <summary>Receives the key and value of every live record when the store is scanned at start-up.</summary>
internal delegate void RecordVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

/// <summary>
/// The node's durable state: a FASTER key-value store under a FasterLog write-ahead log.
/// Every change is one <see cref="WalEntry"/>: appended to the log by a single committer, group-committed
/// (one fsync for every entry waiting), then applied to the store, then acknowledged. Committing and applying
/// are two dedicated threads in a pipeline: while one batch is applied and acknowledged, the next is appended and
/// made durable. The store is checkpointed periodically; on start it recovers the last checkpoint and replays the
/// log past it. Replay is idempotent because every mutation carries the full new value of its key.
/// </summary>
internal sealed partial class StorageEngine : IAsyncDisposable
{
    private readonly StorageOptions _options;
    private readonly ILogger _logger;
    private readonly HandoffQueue<WalEntry> _queue = new();
    private readonly HandoffQueue<CommittedBatch> _committed = new();
    private readonly TaskCompletionSource _applierDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentBag<KvSession> _readSessions = new();
    private readonly RecentEvents _recent = new();
    private readonly SemaphoreSlim _checkpointGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private IDevice _kvDevice = null!;
    private IDevice _walDevice = null!;
    private FasterKV<SpanByte, SpanByte> _kv = null!;
    private FasterLog _wal = null!;
    private KvSession _writer = null!;
    private Task _background = Task.CompletedTask;
    private long _appliedUntil;
    private long _truncateLimit = long.MaxValue;
    private Exception? _fault;
    private long _entriesCommitted;
    private long _commits;
    private int _disposed;

    public StorageEngine(StorageOptions options, ILogger<StorageEngine> logger)
    {
        _options = options;
        _logger = logger;
    }

    public long EntriesCommitted => Interlocked.Read(ref _entriesCommitted);

    public long Commits => Interlocked.Read(ref _commits);

    public long WalBytes => _wal is null ? 0 : _wal.TailAddress - _wal.BeginAddress;

    public bool IsFaulted => _fault is not null;

    /// <summary>
    /// The write-ahead log may be truncated only up to here (set by the Postgres write-behind: what it has not
    /// drained must stay). Unset in embedded mode, where the checkpoint alone decides.
    /// </summary>
    public long TruncateLimit
    {
        get => Interlocked.Read(ref _truncateLimit);
        set => Interlocked.Exchange(ref _truncateLimit, value);
    }

    /// <summary>Opens the store: recovers the last checkpoint, replays the log past it, then scans every live record into <paramref name="load"/>.</summary>
    public void Open(RecordVisitor load)
    {
        var dir = Path.GetFullPath(_options.DataDirectory);
        Directory.CreateDirectory(dir);
        var kvDir = Path.Combine(dir, "kv");
        var walDir = Path.Combine(dir, "wal");
        Directory.CreateDirectory(kvDir);
        Directory.CreateDirectory(walDir);

        _kvDevice = Devices.CreateLogDevice(Path.Combine(kvDir, "hlog"), preallocateFile: false, recoverDevice: true);
        var settings = new FasterKVSettings<SpanByte, SpanByte>(baseDir: null)
        {
            IndexSize = _options.KvIndexBytes,
            LogDevice = _kvDevice,
            PageSize = 1L << 22,
            MemorySize = Math.Max(_options.KvMemoryBytes, 1L << 24),
            CheckpointDir = Path.Combine(kvDir, "checkpoints"),
            TryRecoverLatest = true,
            RemoveOutdatedCheckpoints = true,
        };
        _kv = new FasterKV<SpanByte, SpanByte>(settings);
        long replayFrom = 0;
        if (_kv.RecoveredCommitCookie is { Length: 8 } cookie)
        {
            replayFrom = BitConverter.ToInt64(cookie);
        }

        _walDevice = Devices.CreateLogDevice(Path.Combine(walDir, "log"), preallocateFile: false, recoverDevice: true);
        _wal = new FasterLog(new FasterLogSettings
        {
            LogDevice = _walDevice,
            LogCommitDir = Path.Combine(walDir, "commits"),
            PageSizeBits = 22,
            MemorySizeBits = 26,
            SegmentSizeBits = 28,
            AutoRefreshSafeTailAddress = false,
        });

        _writer = NewSession();
        var replayed = Replay(Math.Max(replayFrom, _wal.BeginAddress));
        _appliedUntil = _wal.TailAddress;
        Log.Recovered(_logger, _kv.RecoveredVersion, replayed, _wal.BeginAddress, _wal.TailAddress);

        ScanLive(load);

        StartThread(RunCommitter, "wal-commit");
        StartThread(RunApplier, "wal-apply");
        _background = Task.Run(RunBackgroundAsync);
        StartDrainer();
    }

    /// <summary>Appends <paramref name="entry"/> and returns when it is durable, applied and its callback has run.</summary>
    public Task CommitAsync(WalEntry entry)
    {
        if (_fault is { } fault) return Task.FromException(new StorageUnavailableException("the write-ahead log has failed", fault));
        if (BacklogFull) return Task.FromException(new StorageUnavailableException("the PostgreSQL write-behind backlog has reached its disk budget"));
        if (!_queue.TryAdd(entry)) return Task.FromException(new StorageUnavailableException("the store is shutting down"));
        return entry.Durable;
    }

    public byte[]? Read(ReadOnlySpan<byte> key)
    {
        using var reader = LeaseReader();
        return reader.Read(key);
    }

    /// <summary>Estimated bytes held by the recent-events rings (bounded by <see cref="RecentEvents.MaxBytes"/>).</summary>
    internal long RecentEventBytes => _recent.KeptBytes;

    /// <summary>A store session for a run of reads by one caller (history pages), returned to the pool on dispose.</summary>
    public Reader LeaseReader() => new(this, _readSessions.TryTake(out var session) ? session : NewSession());

    internal readonly struct Reader(StorageEngine engine, KvSession session) : IDisposable
    {
        public byte[]? Read(ReadOnlySpan<byte> key) => session.Read(key);

        /// <summary>
        /// One event in its current state, or null when the store does not hold it. <paramref name="page"/>: part of a
        /// history page, whose group then keeps its recent events in memory (<see cref="RecentEvents"/>).
        /// </summary>
        public EventRecord? ReadEvent(Guid groupId, ulong seq, bool page) => engine._recent.Read(groupId, seq, session, page);

        public void Dispose() => engine._readSessions.Add(session);
    }

    /// <summary>Checkpoints the store and truncates the log up to what the checkpoint (and the write-behind) hold.</summary>
    public async Task CheckpointAsync()
    {
        await _checkpointGate.WaitAsync();
        try
        {
            var until = Interlocked.Read(ref _appliedUntil);
            _kv.CommitCookie = BitConverter.GetBytes(until);
            var (success, token) = await _kv.TakeFullCheckpointAsync(CheckpointType.FoldOver);
            if (!success)
            {
                Log.CheckpointFailed(_logger);
                return;
            }

            var truncate = Math.Min(until, TruncateLimit);
            if (truncate > _wal.BeginAddress)
            {
                _wal.TruncateUntil(truncate);
            }

            Log.Checkpointed(_logger, token, until);
        }
        finally
        {
            _checkpointGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_kv is null || Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _queue.Close();
        await _applierDone.Task;
        await _stopping.CancelAsync();
        try
        {
            await _background;
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await _drainer;
        }
        catch (OperationCanceledException)
        {
        }

        if (_fault is null)
        {
            await _wal.CommitAsync();
            await CheckpointAsync();
            await _wal.CommitAsync();
        }

        _writer.Dispose();
        while (_readSessions.TryTake(out var s)) s.Dispose();
        _wal.Dispose();
        _kv.Dispose();
        _walDevice.Dispose();
        _kvDevice.Dispose();
        _stopping.Dispose();
        _checkpointGate.Dispose();
    }

    private KvSession NewSession() => new(_kv);

    private long Replay(long from)
    {
        long count = 0;
        if (from >= _wal.TailAddress) return 0;
        using var iterator = _wal.Scan(from, _wal.TailAddress);
        while (iterator.GetNext(out byte[] entry, out var length, out _))
        {
            Apply(WalEntry.Decode(entry.AsSpan(0, length)));
            count++;
        }

        return count;
    }

    private void ScanLive(RecordVisitor load)
    {
        using var iterator = _kv.Log.Scan(_kv.Log.BeginAddress, _kv.Log.TailAddress);
        while (iterator.GetNext(out var info))
        {
            if (info.Invalid || info.Tombstone) continue;
            ref var key = ref iterator.GetKey();
            ref var value = ref iterator.GetValue();
            var k = key.AsReadOnlySpan();
            if (k.Length == 0 || k[0] == StoreKeys.Dedup) continue;

            // Several versions of one key can be on the log; only the one the index points at is live. Events and
            // seq counters are the bulk of the log and need no such check (an event's kind and seq never change,
            // a counter only grows), so only entity records pay for a lookup.
            if (k[0] is not (StoreKeys.Event or StoreKeys.GroupSeq))
            {
                var current = Read(k);
                if (current is null || !current.AsSpan().SequenceEqual(value.AsReadOnlySpan())) continue;
            }

            load(k, value.AsReadOnlySpan());
        }
    }

    private void Apply(List<Mutation> mutations)
    {
        foreach (var m in mutations) Apply(m);
    }

    private void Apply(Mutation m)
    {
        if (m.Value is null) _writer.Delete(m.Key);
        else _writer.Upsert(m.Key, m.Value);
        if (m.Key[0] == StoreKeys.Event) _recent.Written(m.Key, m.Value);
    }

    /// <summary>
    /// Applies one committed entry, holding back the keys nothing reads from the store while the node runs
    /// (memberships and seq counters live in memory; the store has them for restarts): a batch writes each of those
    /// once, with its last value, instead of once per send (a send rewrites the sender's read position).
    /// </summary>
    private void ApplyDeferring(List<Mutation> mutations, Dictionary<byte[], Mutation> deferred)
    {
        foreach (var m in mutations)
        {
            if (m.Key.Length > 0 && m.Key[0] is StoreKeys.Member or StoreKeys.GroupSeq) deferred[m.Key] = m;
            else Apply(m);
        }
    }

    private static void StartThread(ThreadStart loop, string name) => new Thread(loop) { IsBackground = true, Name = name }.Start();

    /// <summary>A batch that is durable (or, in relaxed mode, appended), and the log address its last entry ends at.</summary>
    private readonly record struct CommittedBatch(List<WalEntry> Entries, long EndAddress);

    /// <summary>First stage, on its own thread: appends what is queued and makes it durable with one commit.</summary>
    private void RunCommitter()
    {
        try
        {
            var batch = new List<WalEntry>(256);
            while (_queue.TakeBatch(batch, _options.MaxCommitBatch))
            {
                if (_fault is null)
                {
                    try
                    {
                        foreach (var e in batch) Append(e);
                        if (_options.Durability == DurabilityMode.Fsync)
                        {
                            // Blocking on this thread: the wait must not queue behind the thread pool's work.
                            _wal.CommitAsync().AsTask().GetAwaiter().GetResult();
                            Interlocked.Increment(ref _commits);
                        }
                    }
                    catch (Exception ex)
                    {
                        _fault = ex;
                        Log.WalFailed(_logger, ex);
                    }
                }

                if (_fault is { } fault)
                {
                    foreach (var e in batch) e.Fail(new StorageUnavailableException("the write-ahead log has failed", fault));
                    batch.Clear();
                    continue;
                }

                // Only this thread appends, so the tail is where this batch ends.
                _committed.TryAdd(new CommittedBatch(batch, _wal.TailAddress));
                batch = new List<WalEntry>(256);
            }
        }
        finally
        {
            _committed.Close();
        }
    }

    /// <summary>
    /// Second stage, on its own thread, in log order: applies each entry to the store, runs its callback (memory
    /// update and fan-out) and acknowledges it right after, so a reply does not wait for the fan-out of the
    /// entries after it.
    /// </summary>
    private void RunApplier()
    {
        try
        {
            var batches = new List<CommittedBatch>();
            var deferred = new Dictionary<byte[], Mutation>(KeyComparer.Instance);
            while (_committed.TakeBatch(batches, int.MaxValue))
            {
                foreach (var (entries, endAddress) in batches)
                {
                    foreach (var e in entries)
                    {
                        try
                        {
                            ApplyDeferring(e.Mutations, deferred);
                        }
                        catch (Exception ex)
                        {
                            // The entry is durable but the store did not take it: refuse everything from here on
                            // (a restart replays the log into the store).
                            _fault ??= ex;
                            Log.WalFailed(_logger, ex);
                            e.Fail(new StorageUnavailableException("the store has failed", ex));
                            continue;
                        }

                        try
                        {
                            e.OnCommitted?.Invoke();
                        }
                        catch (Exception ex)
                        {
                            Log.CallbackFailed(_logger, ex);
                        }

                        e.Complete();
                    }

                    try
                    {
                        foreach (var m in deferred.Values) Apply(m);
                    }
                    catch (Exception ex)
                    {
                        _fault ??= ex;
                        Log.WalFailed(_logger, ex);
                    }

                    deferred.Clear();

                    // A checkpoint records this address as applied: never past what the store holds.
                    Interlocked.Exchange(ref _appliedUntil, endAddress);
                    Interlocked.Add(ref _entriesCommitted, entries.Count);
                    NoteCommit(endAddress, entries.Count);
                }

                batches.Clear();
            }
        }
        finally
        {
            _applierDone.TrySetResult();
        }
    }

    private void Append(WalEntry entry)
    {
        var length = entry.EncodedLength();
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = entry.Encode(buffer);
            _wal.Enqueue(new ReadOnlySpan<byte>(buffer, 0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RunBackgroundAsync()
    {
        var token = _stopping.Token;
        var nextCheckpoint = DateTime.UtcNow + _options.CheckpointInterval;
        var tick = _options.Durability == DurabilityMode.Relaxed ? _options.RelaxedCommitInterval : TimeSpan.FromSeconds(1);
        using var timer = new PeriodicTimer(tick);
        while (await timer.WaitForNextTickAsync(token))
        {
            try
            {
                if (_options.Durability == DurabilityMode.Relaxed && _wal.TailAddress > _wal.CommittedUntilAddress)
                {
                    await _wal.CommitAsync(token);
                }

                if (DateTime.UtcNow >= nextCheckpoint)
                {
                    nextCheckpoint = DateTime.UtcNow + _options.CheckpointInterval;
                    await CheckpointAsync();
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.BackgroundFailed(_logger, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Store recovered: checkpoint version {Version}, {Replayed} log entries replayed, log [{Begin}, {Tail})")]
        public static partial void Recovered(ILogger logger, long version, long replayed, long begin, long tail);

        [LoggerMessage(2, LogLevel.Information, "Checkpoint {Token} taken at log address {Address}")]
        public static partial void Checkpointed(ILogger logger, Guid token, long address);

        [LoggerMessage(3, LogLevel.Warning, "Checkpoint failed")]
        public static partial void CheckpointFailed(ILogger logger);

        [LoggerMessage(4, LogLevel.Critical, "The write-ahead log failed; the store no longer accepts changes")]
        public static partial void WalFailed(ILogger logger, Exception error);

        [LoggerMessage(5, LogLevel.Error, "A commit callback failed")]
        public static partial void CallbackFailed(ILogger logger, Exception error);

        [LoggerMessage(6, LogLevel.Error, "Background storage work failed")]
        public static partial void BackgroundFailed(ILogger logger, Exception error);

        [LoggerMessage(7, LogLevel.Warning, "PostgreSQL write-behind failed; the log keeps the backlog and the drain retries")]
        public static partial void DrainFailed(ILogger logger, Exception error);
    }
}

internal sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
