namespace ChatServer.Client;

/// <summary>
/// A request waiting for its reply, keyed by <see cref="Rid"/>. Requests sharing a rid queue behind each other
/// through <see cref="Next"/>. Completion runs continuations asynchronously, never on the receive loop.
/// </summary>
internal abstract class PendingRequest(uint rid)
{
    private CancellationTokenRegistration _cancellation;
    private ChatSocket? _owner;

    public uint Rid { get; } = rid;

    public PendingRequest? Next { get; set; }

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> after which the request times out (<see cref="long.MaxValue"/>: never).</summary>
    public long Deadline { get; set; } = long.MaxValue;

    /// <summary>Completes with a success reply. Throws when the result cannot be decoded (the caller then calls <see cref="Fail"/>).</summary>
    public abstract void OnSuccess(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount);

    public abstract void OnError(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount, ChatApiException error);

    public abstract void Fail(Exception exception);

    public abstract void Cancel(CancellationToken cancellationToken);

    /// <summary>Makes <paramref name="cancellationToken"/> remove and cancel this request (registers nothing when it cannot be cancelled).</summary>
    public void RegisterCancellation(ChatSocket owner, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _owner = owner;
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) =>
                {
                    var pending = (PendingRequest)state!;
                    pending._owner!.Forget(pending);
                    pending.Cancel(token);
                },
                this);
        }
    }

    /// <summary>Stops listening for cancellation once the request is settled or abandoned.</summary>
    public void ReleaseCancellation() => _cancellation.Dispose();
}
