namespace ChatServer.Client;

/// <summary>The durable acknowledgement of a Send.</summary>
/// <param name="Seq">The message's seq in its group.</param>
/// <param name="MessageId">The message's id.</param>
/// <param name="SentAtMs">When it was appended, ms since the Unix epoch.</param>
public sealed record SendResult(long Seq, Guid MessageId, long SentAtMs);
