namespace ChatServer.Client;

/// <summary>The pushed-event types (second element of <c>[2, type, ...fields]</c>).</summary>
public enum PushType
{
    /// <summary>A group event, its fields flattened after the type.</summary>
    Event = 1,

    /// <summary><c>groupId, userId</c>.</summary>
    Typing = 6,

    /// <summary><c>groupId, userId, seq</c>.</summary>
    ReadUpTo = 7,

    /// <summary><c>groupId, fromSeq, toSeq</c>.</summary>
    Gap = 8,

    /// <summary>No fields: the resume replay is complete.</summary>
    Synced = 9,

    /// <summary><c>reason, retryAfterMs</c>: the server closes right after.</summary>
    Goodbye = 10,
}
