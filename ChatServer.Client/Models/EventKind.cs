namespace ChatServer.Client;

/// <summary>The kind of a <see cref="GroupEvent"/>. Values the client does not know are kept as their number.</summary>
public enum EventKind
{
    /// <summary>A chat message: <c>ClientMsgId</c> and <c>Body</c> are set.</summary>
    Message = 1,

    /// <summary>An edit: <c>Body</c> is the new text, <c>TargetSeq</c> the edited message.</summary>
    Edit = 2,

    /// <summary>A deletion: <c>TargetSeq</c> is the deleted message.</summary>
    Delete = 3,

    /// <summary><c>ActorId</c> joined; <c>ByUserId</c> added them when it was someone else.</summary>
    MemberJoined = 4,

    /// <summary><c>ActorId</c> left; <c>ByUserId</c> removed them when it was someone else.</summary>
    MemberLeft = 5,

    /// <summary>The name, description or privacy changed (fetch the group for the new values).</summary>
    GroupUpdated = 6,

    /// <summary><c>ActorId</c>'s role changed to <c>Body</c>, by <c>ByUserId</c>.</summary>
    RoleChanged = 7,
}
