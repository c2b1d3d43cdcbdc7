using System.Diagnostics;
using System.Globalization;
using System.Text;
using ChatServer.Storage;

namespace ChatServer.Hosting;

/// <summary>Counters and histograms rendered as Prometheus text at /metrics.</summary>
internal sealed class Metrics
{
    private static readonly double[] LatencyBucketsMs = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];

    private readonly StorageEngine _store;
    private readonly long[] _fanoutBuckets = new long[LatencyBucketsMs.Length + 1];
    private long _connections;
    private long _sessions;
    private long _framesIn;
    private long _framesOut;
    private long _sends;
    private long _deliveries;
    private long _fanoutCount;
    private long _fanoutTicks;

    public Metrics(StorageEngine store) => _store = store;

    public void ConnectionOpened() => Interlocked.Increment(ref _connections);

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    public void SessionOpened() => Interlocked.Increment(ref _sessions);

    public void SessionClosed() => Interlocked.Decrement(ref _sessions);

    public void FramesIn() => Interlocked.Increment(ref _framesIn);

    public void FramesOut() => Interlocked.Increment(ref _framesOut);

    public void Sent() => Interlocked.Increment(ref _sends);

    public void Delivered() => Interlocked.Increment(ref _deliveries);

    public void FanoutLatency(long startedTimestamp)
    {
        var elapsed = Stopwatch.GetTimestamp() - startedTimestamp;
        var ms = elapsed * 1000.0 / Stopwatch.Frequency;
        var i = 0;
        while (i < LatencyBucketsMs.Length && ms > LatencyBucketsMs[i]) i++;
        Interlocked.Increment(ref _fanoutBuckets[i]);
        Interlocked.Increment(ref _fanoutCount);
        Interlocked.Add(ref _fanoutTicks, elapsed);
    }

    public string Render()
    {
        var sb = new StringBuilder(2048);
        Gauge(sb, "chat_connections", "Open gateway connections.", Interlocked.Read(ref _connections));
        Gauge(sb, "chat_sessions", "Authenticated sessions.", Interlocked.Read(ref _sessions));
        Counter(sb, "chat_frames_in_total", "Requests received over WebSocket.", Interlocked.Read(ref _framesIn));
        Counter(sb, "chat_frames_out_total", "Replies sent over WebSocket.", Interlocked.Read(ref _framesOut));
        Counter(sb, "chat_sends_total", "Messages acknowledged over WebSocket.", Interlocked.Read(ref _sends));
        Counter(sb, "chat_deliveries_total", "Event frames queued to sessions.", Interlocked.Read(ref _deliveries));
        Counter(sb, "chat_wal_entries_total", "Write-ahead log entries committed.", _store.EntriesCommitted);
        Counter(sb, "chat_wal_commits_total", "Write-ahead log group commits (fsyncs).", _store.Commits);
        Gauge(sb, "chat_wal_bytes", "Bytes held by the write-ahead log (not yet truncated).", _store.WalBytes);
        if (_store.HasPostgres)
        {
            Gauge(sb, "chat_postgres_up", "1 when the last write-behind to PostgreSQL succeeded.", _store.PostgresHealthy ? 1 : 0);
            Gauge(sb, "chat_postgres_backlog_events", "Log entries acknowledged but not yet in PostgreSQL.", _store.BacklogEntries);
            Gauge(sb, "chat_postgres_backlog_bytes", "Log bytes not yet in PostgreSQL (refused past Postgres:BacklogBudgetMiB).", _store.BacklogBytes);
            sb.Append(CultureInfo.InvariantCulture, $"# HELP chat_postgres_backlog_seconds Age of the oldest acknowledged change PostgreSQL does not hold yet.\n# TYPE chat_postgres_backlog_seconds gauge\nchat_postgres_backlog_seconds {_store.BacklogSeconds}\n");
            Counter(sb, "chat_postgres_drain_errors_total", "Failed write-behind attempts (each is retried).", _store.DrainErrors);
        }

        Gauge(sb, "chat_process_memory_bytes", "Working set of the process.", Environment.WorkingSet);
        Gauge(sb, "chat_gc_heap_bytes", "Managed heap size.", GC.GetTotalMemory(false));
        sb.Append("# HELP chat_fanout_duration_ms Time to hand one event to every online member session.\n# TYPE chat_fanout_duration_ms histogram\n");
        long cumulative = 0;
        for (var i = 0; i < LatencyBucketsMs.Length; i++)
        {
            cumulative += Interlocked.Read(ref _fanoutBuckets[i]);
            sb.Append(CultureInfo.InvariantCulture, $"chat_fanout_duration_ms_bucket{{le=\"{LatencyBucketsMs[i]}\"}} {cumulative}\n");
        }

        cumulative += Interlocked.Read(ref _fanoutBuckets[^1]);
        sb.Append(CultureInfo.InvariantCulture, $"chat_fanout_duration_ms_bucket{{le=\"+Inf\"}} {cumulative}\n");
        sb.Append(CultureInfo.InvariantCulture, $"chat_fanout_duration_ms_sum {Interlocked.Read(ref _fanoutTicks) * 1000.0 / Stopwatch.Frequency}\n");
        sb.Append(CultureInfo.InvariantCulture, $"chat_fanout_duration_ms_count {Interlocked.Read(ref _fanoutCount)}\n");
        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, long value)
        => sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");

    private static void Counter(StringBuilder sb, string name, string help, long value)
        => sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");
}
