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
    private WireCache _wire = WireCache.None;

    /// <summary>
    /// The record as the wire's GroupEvent array, kept by the gateway after its first encoding so that pages of recent
    /// history shared through <see cref="RecentEvents"/> are copied, not re-encoded. A copy made with <c>with</c>
    /// carries its original's cache, which names the original as its owner, so the copy reads null and is encoded
    /// afresh. Not part of equality.
    /// </summary>
    internal byte[]? WireEncoding
    {
        get => ReferenceEquals(_wire.Owner, this) ? _wire.Bytes : null;
        set => _wire = value is null ? WireCache.None : new WireCache(this, value);
    }

    /// <summary>Never null and equal to every other cache, so the record's synthesized equality and hash ignore it.</summary>
    private sealed class WireCache(EventRecord? owner, byte[]? bytes)
    {
        public static readonly WireCache None = new(null, null);

        public EventRecord? Owner { get; } = owner;

        public byte[]? Bytes { get; } = bytes;

        public override bool Equals(object? obj) => obj is WireCache;

        public override int GetHashCode() => 0;
    }
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
