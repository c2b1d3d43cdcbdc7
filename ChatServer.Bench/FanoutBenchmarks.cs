using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using ChatServer.Gateway;
using ChatServer.Gateway.WebSockets;

namespace ChatServer.Bench;

/// <summary>
/// Fan-out of one event frame (encoded once, before the operation) to N connections through the real outbound queues
/// and writer loops (<see cref="WebSocketConnection.TrySend"/>, one writer task per connection, one flush per batch)
/// over in-memory pipes on Kestrel's block pool; each operation waits until every client has read the frame.
/// Allocated bytes / N is the cost per delivered frame.
/// </summary>
[MemoryDiagnoser]
public class FanoutBenchmarks
{
    private KestrelServices _kestrel = null!;
    private WebSocketConnection[] _connections = [];
    private PipeReader[] _clients = [];
    private byte[] _frame = [];

    [Params(1, 100, 1_000, 50_000)]
    public int Sessions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kestrel = new KestrelServices();
        _frame = WireRecords.EventPush(FrameBenchmarks.SampleEvent());
        _connections = new WebSocketConnection[Sessions];
        _clients = new PipeReader[Sessions];
        var options = new WebSocketOptions();
        for (int i = 0; i < Sessions; i++)
        {
            var context = new PipeConnectionContext(_kestrel.Pool);
            context.ClientOutput.WriteAsync(BenchClient.UpgradeRequest).AsTask().GetAwaiter().GetResult();
            _connections[i] = WebSocketConnection.AcceptAsync(context, options, TimeProvider.System, CancellationToken.None).AsTask().GetAwaiter().GetResult()!;
            _clients[i] = context.ClientInput;
            BenchClient.SkipResponseHead(context.ClientInput);
        }

        BenchClient.WarmUntilSteady(FanOut);
    }

    [Benchmark]
    public ValueTask FanOut()
    {
        foreach (var c in _connections) c.TrySend(_frame, droppable: true);
        return BenchClient.ReadFromEachAsync(_clients, _frame.Length);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var c in _connections) c.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(1));
        _kestrel.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
