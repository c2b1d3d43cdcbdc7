namespace ChatServer.Client;

/// <summary>A request waiting for its reply. Requests sharing a rid queue behind each other through <see cref="Next"/>.</summary>
internal abstract class PendingRequest
{
    public PendingRequest? Next { get; set; }

    /// <summary>Completes with a success reply. Throws when the result cannot be decoded (the caller then calls <see cref="Fail"/>).</summary>
    public abstract void OnSuccess(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount);

    public abstract void OnError(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount, ChatApiException error);

    public abstract void Fail(Exception exception);
}
