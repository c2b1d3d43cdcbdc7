using System.Text.Json.Serialization;

namespace ChatServer.Client;

/// <summary>
/// Source-generated JSON metadata for the HTTP API. Strict on purpose (the client doubles as a contract
/// check): every constructor key must be present and non-nullable values must not be null; unknown keys are ignored.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(User))]
[JsonSerializable(typeof(Group))]
[JsonSerializable(typeof(Member))]
[JsonSerializable(typeof(GroupEvent))]
[JsonSerializable(typeof(LoginResult))]
[JsonSerializable(typeof(SendResult))]
[JsonSerializable(typeof(Page<Group>))]
[JsonSerializable(typeof(Page<Member>))]
[JsonSerializable(typeof(OpenResult))]
[JsonSerializable(typeof(HistoryResult))]
[JsonSerializable(typeof(SyncReply))]
[JsonSerializable(typeof(EditReply))]
[JsonSerializable(typeof(DeleteReply))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class ChatJsonContext : JsonSerializerContext;
