using System.Globalization;

namespace ChatServer.Client;

public sealed partial class ChatHttpClient
{
    /// <summary><c>GET /v1/groups/{id}/messages?before=&amp;limit=</c> → 200 <c>{items, hasMore}</c>.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="before">Only events with a lower seq; null for the newest.</param>
    /// <param name="limit">How many (server default 50, at most 100), or null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The events, ascending.</returns>
    public Task<HistoryResult> HistoryAsync(
        Guid groupId, long? before = null, int? limit = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(
            HttpMethod.Get, Query(MessagesPath(groupId), "before", Format(before), "limit", Format(limit)), null, 200,
            ChatJsonContext.Default.HistoryResult, cancellationToken);

    /// <summary>
    /// <c>POST /v1/groups/{id}/messages</c> <c>{clientMsgId, body}</c> → 201 (new) or 200 (a retry of the same
    /// clientMsgId, with the first reply).
    /// </summary>
    /// <param name="groupId">The group.</param>
    /// <param name="clientMsgId">The idempotency key, 1–64 bytes.</param>
    /// <param name="body">1 char to 16 KiB.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The acknowledgement, and whether it was created now (201) rather than replayed (200).</returns>
    public async Task<(SendResult Result, bool Created)> SendAsync(
        Guid groupId, string clientMsgId, string body, CancellationToken cancellationToken = default)
    {
        var json = new JsonBody();
        json.Writer.WriteString("clientMsgId", clientMsgId);
        json.Writer.WriteString("body", body);
        string path = MessagesPath(groupId);
        using HttpResponseMessage response = await SendCoreAsync(HttpMethod.Post, path, json.ToContent(), cancellationToken)
            .ConfigureAwait(false);
        int status = (int)response.StatusCode;
        bool created = status == 201;
        await EnsureStatusAsync(response, HttpMethod.Post, path, created ? 201 : 200, cancellationToken).ConfigureAwait(false);
        SendResult result = await ReadJsonAsync(response, ChatJsonContext.Default.SendResult, cancellationToken)
            .ConfigureAwait(false);
        return (result, created);
    }

    /// <summary><c>PATCH /v1/groups/{id}/messages/{seq}</c> <c>{body}</c> → 200 <c>{editSeq}</c>.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="seq">The message's seq.</param>
    /// <param name="body">The new text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The seq of the edit event.</returns>
    public async Task<long> EditAsync(Guid groupId, long seq, string body, CancellationToken cancellationToken = default)
    {
        var json = new JsonBody();
        json.Writer.WriteString("body", body);
        EditReply reply = await SendJsonAsync(
            HttpMethod.Patch, MessagePath(groupId, seq), json, 200, ChatJsonContext.Default.EditReply, cancellationToken)
            .ConfigureAwait(false);
        return reply.EditSeq;
    }

    /// <summary><c>DELETE /v1/groups/{id}/messages/{seq}</c> → 200 <c>{deleteSeq}</c>.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="seq">The message's seq.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The seq of the delete event.</returns>
    public async Task<long> DeleteAsync(Guid groupId, long seq, CancellationToken cancellationToken = default)
    {
        DeleteReply reply = await SendJsonAsync(
            HttpMethod.Delete, MessagePath(groupId, seq), null, 200, ChatJsonContext.Default.DeleteReply, cancellationToken)
            .ConfigureAwait(false);
        return reply.DeleteSeq;
    }

    /// <summary><c>POST /v1/groups/{id}/read</c> <c>{seq}</c> → 204.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="seq">The newest seq read.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes with the response.</returns>
    public Task MarkReadAsync(Guid groupId, long seq, CancellationToken cancellationToken = default)
    {
        var json = new JsonBody();
        json.Writer.WriteNumber("seq", seq);
        return SendNoContentAsync(HttpMethod.Post, GroupPath(groupId) + "/read", json, cancellationToken);
    }

    private static string MessagesPath(Guid groupId) =>
        string.Create(CultureInfo.InvariantCulture, $"/v1/groups/{groupId:D}/messages");

    private static string MessagePath(Guid groupId, long seq) =>
        string.Create(CultureInfo.InvariantCulture, $"/v1/groups/{groupId:D}/messages/{seq}");
}
