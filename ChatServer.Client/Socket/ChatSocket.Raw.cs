using System.Net.WebSockets;

namespace ChatServer.Client;

public sealed partial class ChatSocket
{
    /// <summary>
    /// Sends one message exactly as given (any bytes, binary or text), for protocol tests. Replies to it,
    /// if any, arrive as <see cref="UnexpectedFramePush"/> unless a request waits on their rid
    /// (see <see cref="RequestRawAsync(ReadOnlyMemory{byte}, uint, CancellationToken)"/>).
    /// </summary>
    /// <param name="message">The message bytes.</param>
    /// <param name="messageType">Binary (the protocol) or text (which the server must refuse with 1003).</param>
    /// <param name="cancellationToken">Cancels the send (which aborts the connection if it had started).</param>
    /// <returns>A task that completes when the message is sent.</returns>
    public Task SendRawAsync(
        ReadOnlyMemory<byte> message,
        WebSocketMessageType messageType = WebSocketMessageType.Binary,
        CancellationToken cancellationToken = default) =>
        SendFrameAsync(message, messageType, cancellationToken);

    /// <summary>
    /// Sends one binary message exactly as given and waits for the reply carrying <paramref name="rid"/>
    /// (the caller must have put that rid in the message; 0 is allowed, e.g. to see the error a Hello with
    /// rid 0 gets). Error replies do not throw: they come back as a <see cref="RawReply"/> with
    /// <see cref="RawReply.Error"/> set. Several requests may wait on the same rid; replies go to them in
    /// order. Use <see cref="NextRid"/> for a rid no typed request will use.
    /// </summary>
    /// <param name="message">The complete request, e.g. from <see cref="ChatCodec.BuildRequest"/>.</param>
    /// <param name="rid">The rid to wait for.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The reply.</returns>
    public Task<RawReply> RequestRawAsync(
        ReadOnlyMemory<byte> message, uint rid, CancellationToken cancellationToken = default)
    {
        var pending = new RawPendingRequest(rid);
        Task sent = SendRequestAsync(null, message, pending, cancellationToken);
        return sent.IsCompletedSuccessfully ? pending.Task : AwaitSendThenReply(sent, pending.Task);

        static async Task<RawReply> AwaitSendThenReply(Task sent, Task<RawReply> reply)
        {
            await sent.ConfigureAwait(false);
            return await reply.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends <c>[op, rid, ...args]</c> with the next rid and waits for the raw reply. Arguments are written
    /// by <see cref="ChatCodec.WriteValue"/>, so any type mix can be sent, e.g.
    /// <c>RequestRawAsync((int)ChatOp.Send, [groupId, 5, true])</c>.
    /// </summary>
    /// <param name="op">The op number; need not exist.</param>
    /// <param name="args">The arguments.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The reply.</returns>
    public Task<RawReply> RequestRawAsync(int op, ReadOnlySpan<object?> args, CancellationToken cancellationToken = default)
    {
        uint rid = NextRid();
        return RequestRawAsync(ChatCodec.BuildRequest(op, rid, args), rid, cancellationToken);
    }
}
