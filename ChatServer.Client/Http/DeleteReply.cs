namespace ChatServer.Client;

/// <summary>The body of <c>DELETE …/messages/{seq}</c>: <c>{deleteSeq}</c>.</summary>
internal sealed record DeleteReply(long DeleteSeq);
