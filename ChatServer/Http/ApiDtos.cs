using System.Text.Json.Serialization;
using ChatServer.Chat;
using ChatServer.Storage;

namespace ChatServer.Http;

internal sealed record ErrorDto(string Code, string Title, int Status, string? Detail, long? RetryAfterMs);

internal sealed record UserDto(Guid UserId, string Username, string DisplayName)
{
    public static UserDto From(UserRecord u) => new(u.Id, u.Username, u.DisplayName);
}

internal sealed record GroupDto(Guid GroupId, string Name, string Description, bool Private, Guid OwnerId, long CreatedAtMs,
    int MemberCount, ulong LastSeq, string? MyRole, ulong? MyReadSeq, int? Unread)
{
    public static GroupDto From(GroupView v) => new(v.Group.Id, v.Group.Name, v.Group.Description, v.Group.IsPrivate, v.Group.OwnerId,
        v.Group.CreatedAtMs, v.MemberCount, v.LastSeq, v.MyRole is { } r ? Roles.Name(r) : null, v.MyReadSeq, v.Unread);
}

internal sealed record MemberDto(Guid UserId, string DisplayName, string Role, long JoinedAtMs, ulong ReadSeq)
{
    public static MemberDto From(MemberView m) => new(m.Member.UserId, m.DisplayName, Roles.Name(m.Member.Role), m.Member.JoinedAtMs, m.Member.ReadSeq);
}

internal sealed record EventDto(Guid GroupId, ulong Seq, int Kind, Guid ActorId, long AtMs, string? ClientMsgId, string? Body,
    ulong? TargetSeq, long? EditedAtMs, bool Deleted, Guid? ByUserId)
{
    public static EventDto From(EventRecord e) => new(e.GroupId, e.Seq, e.Kind, e.ActorId, e.AtMs, e.ClientMsgId, e.Body, e.TargetSeq, e.EditedAtMs, e.Deleted, e.ByUserId);

    public static List<EventDto> From(IReadOnlyList<EventRecord> events)
    {
        var list = new List<EventDto>(events.Count);
        foreach (var e in events) list.Add(From(e));
        return list;
    }
}

internal sealed record LoginDto(string AccessToken, string RefreshToken, long ExpiresIn, Guid UserId);

internal sealed record GroupPageDto(List<GroupDto> Items, Guid? NextCursor);

internal sealed record MemberPageDto(List<MemberDto> Items, Guid? NextCursor);

internal sealed record EventPageDto(List<EventDto> Items, bool HasMore);

internal sealed record OpenDto(GroupDto Group, List<EventDto> Events, bool HasMore);

internal sealed record SendDto(ulong Seq, Guid MessageId, long SentAtMs);

internal sealed record EditDto(ulong EditSeq);

internal sealed record DeleteDto(ulong DeleteSeq);

internal sealed record SyncItemDto(Guid GroupId, ulong LastSeq, int Unread, EventDto? NewestEvent);

internal sealed record SyncDto(List<SyncItemDto> Items);

internal sealed record HealthDto(string Status);

internal sealed class RegisterRequest
{
    public string? Username { get; set; }

    public string? DisplayName { get; set; }

    public string? MobileNumber { get; set; }

    public string? Password { get; set; }
}

internal sealed class LoginRequest
{
    public string? Username { get; set; }

    public string? Password { get; set; }
}

internal sealed class RefreshRequest
{
    public string? RefreshToken { get; set; }
}

internal sealed class GroupRequest
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public bool? Private { get; set; }
}

internal sealed class MemberRequest
{
    public Guid? UserId { get; set; }
}

internal sealed class RoleRequest
{
    public string? Role { get; set; }
}

internal sealed class SendRequest
{
    public string? ClientMsgId { get; set; }

    public string? Body { get; set; }
}

internal sealed class EditRequest
{
    public string? Body { get; set; }
}

internal sealed class ReadRequest
{
    public ulong? Seq { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(ErrorDto))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(GroupDto))]
[JsonSerializable(typeof(MemberDto))]
[JsonSerializable(typeof(EventDto))]
[JsonSerializable(typeof(LoginDto))]
[JsonSerializable(typeof(GroupPageDto))]
[JsonSerializable(typeof(MemberPageDto))]
[JsonSerializable(typeof(EventPageDto))]
[JsonSerializable(typeof(OpenDto))]
[JsonSerializable(typeof(SendDto))]
[JsonSerializable(typeof(EditDto))]
[JsonSerializable(typeof(DeleteDto))]
[JsonSerializable(typeof(SyncDto))]
[JsonSerializable(typeof(HealthDto))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(RefreshRequest))]
[JsonSerializable(typeof(GroupRequest))]
[JsonSerializable(typeof(MemberRequest))]
[JsonSerializable(typeof(RoleRequest))]
[JsonSerializable(typeof(SendRequest))]
[JsonSerializable(typeof(EditRequest))]
[JsonSerializable(typeof(ReadRequest))]
[JsonSerializable(typeof(Dictionary<string, ulong>))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
