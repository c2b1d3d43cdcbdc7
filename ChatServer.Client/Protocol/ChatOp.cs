namespace ChatServer.Client;

/// <summary>The request op numbers of the WebSocket protocol (first element of <c>[op, rid, ...args]</c>).</summary>
public enum ChatOp
{
    /// <summary><c>token, resume</c> → <c>userId, sessionId, heartbeatMs, serverTimeMs, maxFrameBytes</c>.</summary>
    Hello = 16,

    /// <summary><c>token</c> → <c>expiresAtMs</c>.</summary>
    Reauth = 17,

    /// <summary><c>userId | "@username"</c> → <c>User</c>.</summary>
    GetUser = 20,

    /// <summary><c>name, description?, private?</c> → <c>Group</c>.</summary>
    CreateGroup = 32,

    /// <summary><c>groupId</c> → <c>Group</c>.</summary>
    GetGroup = 33,

    /// <summary><c>afterGroupId?, limit?</c> → <c>[Group…], nextCursor</c>.</summary>
    ListGroups = 34,

    /// <summary><c>groupId</c> → <c>Group</c>.</summary>
    JoinGroup = 35,

    /// <summary><c>groupId</c> → nothing.</summary>
    LeaveGroup = 36,

    /// <summary><c>groupId, userId</c> → <c>Member</c>.</summary>
    AddMember = 37,

    /// <summary><c>groupId, userId</c> → nothing.</summary>
    RemoveMember = 38,

    /// <summary><c>groupId, afterUserId?, limit?</c> → <c>[Member…], nextCursor</c>.</summary>
    ListMembers = 39,

    /// <summary><c>groupId, limit?</c> → <c>Group, [GroupEvent…], hasMore</c>.</summary>
    Open = 40,

    /// <summary><c>{groupId: lastSeq}</c> → <c>[[groupId, lastSeq, unread, GroupEvent]…]</c>.</summary>
    Sync = 41,

    /// <summary><c>groupId, name?, description?, private?</c> → <c>Group</c>.</summary>
    UpdateGroup = 42,

    /// <summary><c>groupId, userId, role</c> → <c>Member</c>.</summary>
    SetRole = 43,

    /// <summary><c>groupId, clientMsgId, body</c> → <c>seq, messageId, sentAtMs</c>.</summary>
    Send = 48,

    /// <summary><c>groupId, beforeSeq?, limit?</c> → <c>[GroupEvent…], hasMore</c>.</summary>
    History = 49,

    /// <summary><c>groupId, seq</c> → nothing.</summary>
    MarkRead = 50,

    /// <summary><c>groupId</c> → nothing (usually rid 0).</summary>
    Typing = 51,

    /// <summary><c>groupId, seq, body</c> → <c>editSeq</c>.</summary>
    Edit = 52,

    /// <summary><c>groupId, seq</c> → <c>deleteSeq</c>.</summary>
    Delete = 53,
}
