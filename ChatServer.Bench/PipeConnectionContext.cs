using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace ChatServer.Bench;

/// <summary>
/// A <see cref="ConnectionContext"/> over two in-memory pipes on the given block pool; the benchmark plays the client
/// through <see cref="ClientOutput"/> and <see cref="ClientInput"/>.
/// </summary>
internal sealed class PipeConnectionContext : ConnectionContext
{
    private readonly Pipe _toServer;
    private readonly Pipe _toClient;

    public PipeConnectionContext(MemoryPool<byte> pool)
    {
        var options = new PipeOptions(pool, pauseWriterThreshold: 0, useSynchronizationContext: false);
        _toServer = new Pipe(options);
        _toClient = new Pipe(options);
        Transport = new Duplex(_toServer.Reader, _toClient.Writer);
    }

    public override string ConnectionId { get; set; } = "bench";

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public PipeWriter ClientOutput => _toServer.Writer;

    public PipeReader ClientInput => _toClient.Reader;

    public override void Abort(ConnectionAbortedException abortReason)
    {
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
