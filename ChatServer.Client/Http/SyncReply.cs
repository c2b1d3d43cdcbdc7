namespace ChatServer.Client;

/// <summary>The body of <c>POST /v1/sync</c>: <c>{items}</c>.</summary>
internal sealed record SyncReply(IReadOnlyList<SyncItem> Items);
