using BenchmarkDotNet.Attributes;
using ChatServer.Storage;

namespace ChatServer.Bench;

/// <summary>
/// History of the newest 50 events of a group of 1,000 messages (<see cref="GroupService.History"/>: 50 reads from
/// FASTER's in-memory log, each decoded into an event in its current state), as Open and History serve them.
/// </summary>
[MemoryDiagnoser]
public class HistoryBenchmarks
{
    private BenchStore _store = null!;

    [GlobalSetup]
    public void Setup()
    {
        _store = BenchStore.Open(DurabilityMode.Relaxed);
        for (int i = 0; i < 1_000; i++)
        {
            _store.Groups.SendAsync(_store.User, _store.Group, $"c-{i}", $"message {i} of the history, a body of typical length").GetAwaiter().GetResult();
        }
    }

    [Benchmark]
    public int Newest_50()
    {
        var result = _store.Groups.History(_store.User, _store.Group, null, 50);
        return result.Value.Events.Count;
    }

    [GlobalCleanup]
    public void Cleanup() => _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
