namespace ChatServer.Storage;

internal enum DurabilityMode
{
    /// <summary>A change is acknowledged after the write-ahead log's group commit is on disk (fsync'd).</summary>
    Fsync,

    /// <summary>A change is acknowledged once appended to the log; the log is committed on a short timer.</summary>
    Relaxed,
}

internal sealed class StorageOptions
{
    public string DataDirectory { get; init; } = "./data";

    public DurabilityMode Durability { get; init; } = DurabilityMode.Fsync;

    /// <summary>Commit interval of the relaxed mode (the longest window of acknowledged changes a crash can lose).</summary>
    public TimeSpan RelaxedCommitInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How often the key-value store is checkpointed (the log is replayed from the last checkpoint on start).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Memory of FASTER's in-memory log part; older records live on disk and are read on demand.</summary>
    public long KvMemoryBytes { get; init; } = 256L << 20;

    /// <summary>FASTER's hash index (64 bytes per bucket of 7 entries): 16 MiB holds ~1.8 million keys without overflow.</summary>
    public long KvIndexBytes { get; init; } = 16L << 20;

    /// <summary>With PostgreSQL: log bytes not yet drained past which changes are refused with unavailable (1 GiB).</summary>
    public long BacklogBudgetBytes { get; init; } = 1L << 30;

    /// <summary>With PostgreSQL: log entries per write-behind transaction (one binary COPY of their events).</summary>
    public int DrainBatchEntries { get; init; } = 50_000;

    /// <summary>With PostgreSQL: newest events per group kept in FASTER once drained (0 = keep all); older reads fall through.</summary>
    public int HotEventsPerGroup { get; init; }

    /// <summary>Entries per group commit at most; FasterLog commits cost ~1 ms here, so batches amortise them.</summary>
    public int MaxCommitBatch { get; init; } = 4096;
}
