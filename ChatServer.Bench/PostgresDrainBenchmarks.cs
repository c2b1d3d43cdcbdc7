using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using ChatServer.Storage;
using ChatServer.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ChatServer.Bench;

/// <summary>
/// Write-behind throughput: 100,000 sends' log entries (event, read position, dedup key, seq) drained
/// in transactions of BatchEntries, as the drainer issues them. Needs CHAT_BENCH_POSTGRES (a database the benchmark may create tables in).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class PostgresDrainBenchmarks
{
    private const int Events = 100_000;
    private PgDatabase _pg = null!;
    private List<List<Mutation>> _entries = null!;
    private Guid _node;
    private long _round;

    [Params(10_000, 50_000, 100_000)]
    public int BatchEntries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var cs = Environment.GetEnvironmentVariable("CHAT_BENCH_POSTGRES")
            ?? throw new InvalidOperationException("set CHAT_BENCH_POSTGRES to a PostgreSQL connection string");
        _pg = new PgDatabase(cs, NullLogger<PgDatabase>.Instance);
        _pg.MigrateAsync().GetAwaiter().GetResult();
        _node = Guid.CreateVersion7();
    }

    [IterationSetup]
    public void MakeEvents()
    {
        // Fresh groups each iteration: inserts, not conflicts, as in steady state.
        _round++;
        _entries = new List<List<Mutation>>(Events);
        var groups = new Guid[100];
        for (var g = 0; g < groups.Length; g++) groups[g] = Guid.CreateVersion7();
        var senders = new Guid[1000];
        for (var u = 0; u < senders.Length; u++) senders[u] = Guid.CreateVersion7();
        for (var i = 0; i < Events; i++)
        {
            // What a Send appends: the event, the sender's read position, the dedup key and the seq counter.
            var group = groups[i % groups.Length];
            var sender = senders[i % senders.Length];
            var seq = (ulong)(i / groups.Length) + 1;
            var clientMsgId = $"c-{_round}-{i}";
            var ev = new EventRecord(group, seq, Guid.CreateVersion7(), EventKinds.Message, sender, 1_764_400_000_000 + i,
                clientMsgId, "a typical short chat message body, about sixty bytes long", null, null, false, null);
            _entries.Add(
            [
                new Mutation(StoreKeys.ForDedup(group, sender, clientMsgId), RecordCodec.EncodeUInt64(seq)),
                new Mutation(StoreKeys.ForMember(group, sender), RecordCodec.Encode(new MemberRecord(group, sender, Roles.Member, 1_764_400_000_000, seq))),
                new Mutation(StoreKeys.ForEvent(group, seq), RecordCodec.Encode(ev)),
                new Mutation(StoreKeys.ForGroupSeq(group), RecordCodec.EncodeUInt64(seq)),
            ]);
        }
    }

    /// <summary>100,000 events in transactions of <see cref="BatchEntries"/> entries; events/s = 100,000 / the mean.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task Drain_100k_message_events()
    {
        for (var i = 0; i < _entries.Count; i += BatchEntries)
        {
            var batch = _entries.GetRange(i, Math.Min(BatchEntries, _entries.Count - i));
            await _pg.DrainAsync(_node, batch, i + batch.Count, CancellationToken.None);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pg.DisposeAsync().AsTask().GetAwaiter().GetResult();
        NpgsqlConnection.ClearAllPools();
    }
}
