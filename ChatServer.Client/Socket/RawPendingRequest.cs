using MessagePack;

namespace ChatServer.Client;

/// <summary>A raw request: every reply, success or error, completes with a copy of the message.</summary>
internal sealed class RawPendingRequest(uint rid) : PendingRequest(rid)
{
    private readonly TaskCompletionSource<RawReply> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<RawReply> Task => _completion.Task;

    public override void OnSuccess(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount)
    {
        var reader = new MessagePackReader(frame[resultOffset..]);
        ChatCodec.SkipFields(ref reader, fieldCount);
        if (!reader.End)
        {
            throw new ChatProtocolException("Trailing bytes after the reply.");
        }

        ReleaseCancellation();
        _completion.TrySetResult(new RawReply(Rid, frame.ToArray(), resultOffset, fieldCount, error: null));
    }

    public override void OnError(ReadOnlyMemory<byte> frame, int resultOffset, int fieldCount, ChatApiException error)
    {
        ReleaseCancellation();
        _completion.TrySetResult(new RawReply(Rid, frame.ToArray(), resultOffset, fieldCount, error));
    }

    public override void Fail(Exception exception)
    {
        ReleaseCancellation();
        _completion.TrySetException(exception);
    }

    public override void Cancel(CancellationToken cancellationToken) => _completion.TrySetCanceled(cancellationToken);
}
