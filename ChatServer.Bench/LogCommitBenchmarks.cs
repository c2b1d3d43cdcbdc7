using BenchmarkDotNet.Attributes;
using ChatServer.Storage;

namespace ChatServer.Bench;

/// <summary>
/// One group commit of <see cref="Entries"/> log entries with fsync durability: each entry holds what a Send appends
/// (dedup key, the sender's read position, the event, the group's seq counter); the operation queues them all through
/// <see cref="StorageEngine.CommitAsync"/> and waits until every one is durable, applied to FASTER and acknowledged.
/// This measures the disk's synchronous write more than the CPU. The committer may split a batch when it wakes up
/// before the last entry is queued; the commits per operation are printed at the end.
/// </summary>
[MemoryDiagnoser]
public class LogCommitBenchmarks
{
    private BenchStore _store = null!;
    private List<Mutation> _mutations = null!;
    private Task[] _pending = [];
    private long _operations;
    private long _commitsBefore;

    [Params(1, 100, 1_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = BenchStore.Open(DurabilityMode.Fsync);
        var group = _store.Group;
        var sender = _store.User;
        const ulong Seq = 2;
        var ev = FrameBenchmarks.SampleEvent() with { GroupId = group, Seq = Seq, ActorId = sender };
        _mutations =
        [
            new Mutation(StoreKeys.ForDedup(group, sender, ev.ClientMsgId!), RecordCodec.EncodeUInt64(Seq)),
            new Mutation(StoreKeys.ForMember(group, sender), RecordCodec.Encode(new MemberRecord(group, sender, Roles.Owner, ev.AtMs, Seq))),
            new Mutation(StoreKeys.ForEvent(group, Seq), RecordCodec.Encode(ev)),
            new Mutation(StoreKeys.ForGroupSeq(group), RecordCodec.EncodeUInt64(Seq)),
        ];
        _pending = new Task[Entries];
        _commitsBefore = _store.Store.Commits;
    }

    [Benchmark]
    public async Task Commit()
    {
        for (int i = 0; i < _pending.Length; i++) _pending[i] = _store.Store.CommitAsync(new WalEntry(_mutations));
        foreach (var entry in _pending) await entry;
        _operations++;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// {Entries} entries per operation: {(double)(_store.Store.Commits - _commitsBefore) / _operations:F2} commits (fsyncs) per operation");
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
