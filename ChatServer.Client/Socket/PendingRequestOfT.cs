using MessagePack;

namespace ChatServer.Client;

/// <summary>A typed request: success replies are decoded on the receive loop, error replies throw <see cref="ChatApiException"/>.</summary>
internal sealed class PendingRequest<T>(uint rid, ReplyReader<T> read) : PendingRequest(rid)
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _completion.Task;

    public override void OnSuccess(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount)
    {
        var reader = new MessagePackReader(frame[resultOffset..]);
        T value = read(ref reader, fieldCount);
        if (!reader.End)
        {
            throw new ChatProtocolException("Trailing bytes after the reply.");
        }

        ReleaseCancellation();
        _completion.TrySetResult(value);
    }

    public override void OnError(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount, ChatApiException error)
    {
        ReleaseCancellation();
        _completion.TrySetException(error);
    }

    public override void Fail(Exception exception)
    {
        ReleaseCancellation();
        _completion.TrySetException(exception);
    }

    public override void Cancel(CancellationToken cancellationToken) => _completion.TrySetCanceled(cancellationToken);
}
