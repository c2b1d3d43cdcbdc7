using BenchmarkDotNet.Attributes;
using ChatServer.Chat;
using ChatServer.Storage;

namespace ChatServer.Bench;

/// <summary>
/// A Send through <see cref="GroupService.SendAsync"/>: membership, validation, rate limit, the group's writer gate,
/// the dedup lookup in FASTER, the event's encoding into a log entry, the committer's append to the write-ahead log,
/// the apply to FASTER and the commit callback (no session is online, so nothing is fanned out). Durability is relaxed:
/// the entry is acknowledged once appended and the log is flushed on the store's timer, so the operation measures the
/// CPU path rather than the disk. The clientMsgId of each send is formatted inside the operation (a new one per send,
/// as the gateway reads it off the wire).
/// </summary>
[MemoryDiagnoser]
public class SendPathBenchmarks
{
    private const int Concurrent = 100;
    private const string Body = "a message body of typical length, about sixty-four bytes long...";
    private readonly Task<Result<SendOutcome>>[] _sends = new Task<Result<SendOutcome>>[Concurrent];
    private BenchStore _store = null!;
    private long _next;

    [GlobalSetup]
    public void Setup() => _store = BenchStore.Open(DurabilityMode.Relaxed);

    /// <summary>One send at a time: its latency, thread hops to and from the committer included.</summary>
    [Benchmark]
    public async Task<ulong> Send()
    {
        var result = await _store.Groups.SendAsync(_store.User, _store.Group, $"c-{++_next}", Body);
        return result.Value!.Seq;
    }

    /// <summary>100 sends in flight (they share commit batches); the mean is per send.</summary>
    [Benchmark(OperationsPerInvoke = Concurrent)]
    public async Task<ulong> Send_100_in_flight()
    {
        for (int i = 0; i < Concurrent; i++) _sends[i] = _store.Groups.SendAsync(_store.User, _store.Group, $"c-{++_next}", Body);
        ulong last = 0;
        foreach (var send in _sends) last = (await send).Value!.Seq;
        return last;
    }

    [GlobalCleanup]
    public void Cleanup() => _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
