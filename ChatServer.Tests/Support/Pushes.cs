using ChatServer.Client;

namespace ChatServer.Tests.Support;

/// <summary>Waits for pushes of a given kind, skipping others, with a timeout that fails the test.</summary>
public static class Pushes
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task<T> NextAsync<T>(ChatSocket socket, Func<T, bool>? match = null, TimeSpan? timeout = null)
        where T : ServerPush
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (true)
            {
                var push = await socket.Pushes.ReadAsync(cts.Token);
                if (push is T t && (match is null || match(t))) return t;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {typeof(T).Name} push within {(timeout ?? DefaultTimeout).TotalSeconds} s");
        }
    }

    public static async Task<GroupEvent> NextEventAsync(ChatSocket socket, Guid groupId, TimeSpan? timeout = null)
        => (await NextAsync<EventPush>(socket, p => p.Event.GroupId == groupId, timeout)).Event;
}
