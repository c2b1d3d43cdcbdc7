namespace ChatServer.Client;

/// <summary>The body of <c>PATCH …/messages/{seq}</c>: <c>{editSeq}</c>.</summary>
internal sealed record EditReply(long EditSeq);
