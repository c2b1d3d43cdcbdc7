using System.Text.Json.Serialization;

namespace ChatServer.Client;

/// <summary>A page of history (JSON: <c>{items, hasMore}</c>).</summary>
/// <param name="Events">Events in ascending seq, in current state.</param>
/// <param name="HasMore">Whether older events exist.</param>
public sealed record HistoryResult([property: JsonPropertyName("items")] IReadOnlyList<GroupEvent> Events, bool HasMore);
