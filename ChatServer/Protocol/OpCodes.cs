namespace ChatServer.Protocol;

/// <summary>Request op numbers (PROTOCOL.md §3).</summary>
internal static class OpCodes
{
    public const int Hello = 16;
    public const int Reauth = 17;
    public const int GetUser = 20;
    public const int CreateGroup = 32;
    public const int GetGroup = 33;
    public const int ListGroups = 34;
    public const int JoinGroup = 35;
    public const int LeaveGroup = 36;
    public const int AddMember = 37;
    public const int RemoveMember = 38;
    public const int ListMembers = 39;
    public const int Open = 40;
    public const int Sync = 41;
    public const int UpdateGroup = 42;
    public const int SetRole = 43;
    public const int Send = 48;
    public const int History = 49;
    public const int MarkRead = 50;
    public const int Typing = 51;
    public const int Edit = 52;
    public const int Delete = 53;
}

/// <summary>Frame kinds (first element of every frame) and pushed event types (PROTOCOL.md §2, §4).</summary>
internal static class FrameKinds
{
    public const int Reply = 0;
    public const int Error = 1;
    public const int Push = 2;

    public const int PushEvent = 1;
    public const int PushTyping = 6;
    public const int PushReadUpTo = 7;
    public const int PushGap = 8;
    public const int PushSynced = 9;
    public const int PushGoodbye = 10;
}

/// <summary>Application close codes (PROTOCOL.md §6).</summary>
internal static class ChatCloseCodes
{
    public const ushort NotAuthenticated = 4001;
    public const ushort HeartbeatTimeout = 4002;
    public const ushort TokenExpiredOrRevoked = 4003;
    public const ushort Flooding = 4008;
    public const ushort SlowConsumer = 4009;
}
