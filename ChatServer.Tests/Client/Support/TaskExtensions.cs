using System.Threading.Channels;
using ChatServer.Client;

namespace ChatServer.Tests.Client.Support;

internal static class TaskExtensions
{
    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(FakeChatServer.Patience);

    public static Task Within(this Task task) => task.WaitAsync(FakeChatServer.Patience);

    public static async Task<T> NextPushAsync<T>(this ChannelReader<ServerPush> pushes)
        where T : ServerPush
    {
        ServerPush push = await pushes.ReadAsync().AsTask().WaitAsync(FakeChatServer.Patience);
        return Assert.IsType<T>(push);
    }
}
