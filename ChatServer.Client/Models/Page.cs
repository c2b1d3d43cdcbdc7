namespace ChatServer.Client;

/// <summary>A page of a list ordered by id.</summary>
/// <typeparam name="T">The item type.</typeparam>
/// <param name="Items">The items of this page.</param>
/// <param name="NextCursor">The last id of this page when more follow (pass it as <c>after</c>), else null.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, Guid? NextCursor);
