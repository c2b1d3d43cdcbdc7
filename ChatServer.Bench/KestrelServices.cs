using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatServer.Bench;

/// <summary>
/// Kestrel's own services, built the way <c>ServerHost</c> builds them (a slim web application that is never started):
/// the block pool Kestrel's socket transport gives every connection's pipes, and the application lifetime.
/// </summary>
/// <remarks>
/// The pool matters for allocation figures. Kestrel's pool (pinned 4 KiB blocks kept for reuse; a running server's
/// heartbeat trims idle ones, which does not happen here) serves a block from its free list however many connections
/// hold one. A pipe on the default pool rents from <see cref="ArrayPool{T}.Shared"/> instead, whose per-core caches
/// hold a few dozen 4 KiB arrays: with hundreds of connections each holding an unread segment, most rents allocate a
/// new array, and a fan-out benchmark measures that pool rather than the server (measured: 1.4 KB per delivered frame
/// at 100 connections and 2.9 KB at 1,000 on the default pool, 0 B on Kestrel's).
/// </remarks>
internal sealed class KestrelServices : IAsyncDisposable
{
    private readonly WebApplication _app = WebApplication.CreateSlimBuilder().Build();

    public KestrelServices() => Pool = _app.Services.GetRequiredService<IMemoryPoolFactory<byte>>().Create(new MemoryPoolOptions { Owner = "bench" });

    public MemoryPool<byte> Pool { get; }

    public IHostApplicationLifetime Lifetime => _app.Lifetime;

    public async ValueTask DisposeAsync()
    {
        Pool.Dispose();
        await _app.DisposeAsync();
    }
}
