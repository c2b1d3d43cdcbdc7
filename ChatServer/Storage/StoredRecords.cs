namespace ChatServer.Storage;

internal sealed record UserRecord(
    Guid Id,
    string Username,
    string DisplayName,
    string? MobileNumber,
    string PasswordHash,
    long CreatedAtMs);

internal sealed record GroupRecord(
    Guid Id,
    string Name,
    string Description,
    bool IsPrivate,
    Guid OwnerId,
    long CreatedAtMs);

internal static class Roles
{
    public const byte Member = 0;
    public const byte Admin = 1;
    public const byte Owner = 2;

    public static string Name(byte role) => role switch
    {
        Owner => "owner",
        Admin => "admin",
        _ => "member",
    };

    public static bool TryParse(string? text, out byte role)
    {
        switch (text)
        {
            case "owner": role = Owner; return true;
            case "admin": role = Admin; return true;
            case "member": role = Member; return true;
            default: role = 0; return false;
        }
    }
}

internal sealed record MemberRecord(Guid GroupId, Guid UserId, byte Role, long JoinedAtMs, ulong ReadSeq);

internal static class EventKinds
{
    public const byte Message = 1;
    public const byte Edit = 2;
    public const byte Delete = 3;
    public const byte MemberJoined = 4;
    public const byte MemberLeft = 5;
    public const byte GroupUpdated = 6;
    public const byte RoleChanged = 7;
}

/// <summary>One entry of a group's log, as stored (a message record carries its current state).</summary>
internal sealed record EventRecord(
    Guid GroupId,
    ulong Seq,
    Guid Id,
    byte Kind,
    Guid ActorId,
    long AtMs,
    string? ClientMsgId,
    string? Body,
    ulong? TargetSeq,
    long? EditedAtMs,
    bool Deleted,
    Guid? ByUserId)
{
    private EventRecord(EventRecord original)
    {
        // Every field but the wire encoding: a changed copy is encoded afresh.
        GroupId = original.GroupId;
        Seq = original.Seq;
        Id = original.Id;
        Kind = original.Kind;
        ActorId = original.ActorId;
        AtMs = original.AtMs;
        ClientMsgId = original.ClientMsgId;
        Body = original.Body;
        TargetSeq = original.TargetSeq;
        EditedAtMs = original.EditedAtMs;
        Deleted = original.Deleted;
        ByUserId = original.ByUserId;
    }

    /// <summary>
    /// The record as the wire's GroupEvent array, kept by the gateway after its first encoding so that pages of recent
    /// history shared through <see cref="RecentEvents"/> are copied, not re-encoded. Not part of equality or copies.
    /// </summary>
    internal byte[]? WireEncoding { get; set; }

    public bool Equals(EventRecord? other) =>
        other is not null && GroupId == other.GroupId && Seq == other.Seq && Id == other.Id && Kind == other.Kind
        && ActorId == other.ActorId && AtMs == other.AtMs && ClientMsgId == other.ClientMsgId && Body == other.Body
        && TargetSeq == other.TargetSeq && EditedAtMs == other.EditedAtMs && Deleted == other.Deleted && ByUserId == other.ByUserId;

    public override int GetHashCode() => HashCode.Combine(GroupId, Seq, Id, Kind, Body, EditedAtMs, Deleted);
}

/// <summary>A login: the chain of refresh tokens issued by one sign-in, and every access token issued from it.</summary>
internal sealed record LoginRecord(
    Guid Id,
    Guid UserId,
    byte[] RefreshTokenHash,
    long RefreshExpiresAtMs,
    long CreatedAtMs,
    bool Revoked,
    long RevokedAtMs);
