using System.Collections.Concurrent;
using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

public sealed class MessageCrashTests
{
    private const int Clients = 4;
    private const int Kills = 4;

    private sealed record Ack(Guid GroupId, long Seq, string ClientMsgId, string Body);

    [Fact]
    public async Task Acknowledged_messages_survive_repeated_sigkills_exactly_once_at_their_seq_with_gap_free_logs()
    {
        var dir = TestServer.NewDataDirectory();
        var random = new Random(20240611);
        try
        {
            await using var server = new ServerProcess(dir);
            await server.StartAsync();
            var setup = server.NewHttp();
            var users = new (string Name, Guid Id)[Clients];
            for (var i = 0; i < Clients; i++)
            {
                var name = $"crash{i}_{Guid.NewGuid().ToString("N")[..6]}";
                users[i] = (name, (await setup.RegisterAsync(name, "Crash " + i, "password123")).UserId);
            }

            await setup.LoginAsync(users[0].Name, "password123");
            var groups = new[] { (await setup.CreateGroupAsync("crash a")).GroupId, (await setup.CreateGroupAsync("crash b")).GroupId };
            foreach (var g in groups)
            {
                for (var i = 1; i < Clients; i++) await setup.AddMemberAsync(g, users[i].Id);
            }

            var acks = new ConcurrentDictionary<string, Ack>();
            var conflicts = new ConcurrentQueue<string>();
            var noNewMessages = new CancellationTokenSource();
            var clients = Enumerable.Range(0, Clients).Select(i => Task.Run(() => ClientLoopAsync(
                server, users[i].Name, i, groups, acks, conflicts, noNewMessages.Token))).ToList();

            for (var k = 0; k < Kills; k++)
            {
                await WaitForAcksAsync(acks, acks.Count + 15 + random.Next(30));
                await Task.Delay(random.Next(0, 150));
                server.Kill();
                await server.StartAsync();
            }

            await WaitForAcksAsync(acks, acks.Count + 10);
            await noNewMessages.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Empty(conflicts);
            var reader = server.NewHttp();
            await reader.LoginAsync(users[0].Name, "password123");
            var logs = new Dictionary<Guid, List<GroupEvent>>();
            foreach (var g in groups)
            {
                var log = await MessagingKit.FullHistoryAsync(reader, g);
                logs[g] = log;
                Assert.Equal(Enumerable.Range(1, log.Count).Select(s => (long)s), log.Select(e => e.Seq));
                Assert.Equal(log.Count, (await reader.GetGroupAsync(g)).LastSeq);
                var messages = log.Where(e => e.Kind == EventKind.Message).ToList();
                Assert.Equal(messages.Count, messages.Select(e => (e.ActorId, e.ClientMsgId)).Distinct().Count());
            }

            Assert.True(acks.Count >= (Kills * 15) + 10);
            foreach (var ack in acks.Values)
            {
                var ev = logs[ack.GroupId][(int)ack.Seq - 1];
                Assert.Equal((EventKind.Message, ack.ClientMsgId, ack.Body), (ev.Kind, ev.ClientMsgId, ev.Body));
            }

            await using var socket = await ChatSocket.ConnectAsync(server.GatewayUri);
            await socket.HelloAsync(reader.AccessToken!, groups.ToDictionary(g => g, _ => 0L));
            var replayed = await MessagingKit.PushesUntilAsync(socket, p => p is SyncedPush, TimeSpan.FromSeconds(20));
            foreach (var g in groups)
            {
                Assert.Equal(logs[g].Select(e => e.Seq), MessagingKit.EventsOf(replayed, g).Select(e => e.Seq));
            }

            Assert.DoesNotContain(replayed, p => p is GapPush);
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task WaitForAcksAsync(ConcurrentDictionary<string, Ack> acks, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (acks.Count < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"only {acks.Count} of {count} sends acknowledged");
            await Task.Delay(5);
        }
    }

    /// <summary>
    /// Sends numbered messages alternately over WebSocket and HTTP (up to four at a time), alternating groups;
    /// after any failure reconnects to wherever the server now listens and retries every unacknowledged
    /// clientMsgId before making new ones. Stops once no new messages are wanted and nothing is pending.
    /// </summary>
    private static async Task ClientLoopAsync(
        ServerProcess server, string username, int client, Guid[] groups,
        ConcurrentDictionary<string, Ack> acks, ConcurrentQueue<string> conflicts, CancellationToken noNew)
    {
        var pending = new Dictionary<string, (Guid GroupId, string Body)>();
        var next = 0;
        ChatHttpClient? http = null;
        ChatSocket? socket = null;
        while (!noNew.IsCancellationRequested || pending.Count > 0)
        {
            try
            {
                if (http is null)
                {
                    var h = server.NewHttp();
                    await h.LoginAsync(username, "password123");
                    http = h;
                }

                if (socket is null)
                {
                    var s = await ChatSocket.ConnectAsync(server.GatewayUri, new ChatSocketOptions { DiscardPushes = true, RequestTimeout = TimeSpan.FromSeconds(10) });
                    try
                    {
                        await s.HelloAsync(http.AccessToken!);
                    }
                    catch
                    {
                        await s.DisposeAsync();
                        throw;
                    }

                    socket = s;
                }

                while (!noNew.IsCancellationRequested && pending.Count < 4)
                {
                    var id = $"c{client}-{next}";
                    pending[id] = (groups[next % groups.Length], $"body {id} " + new string('x', next % 50));
                    next++;
                }

                var batch = pending.Select((p, i) => SendOneAsync(http, socket, p.Key, p.Value.GroupId, p.Value.Body, i % 2 == 0)).ToList();
                var failed = false;
                foreach (var task in batch)
                {
                    try
                    {
                        var (id, groupId, body, result) = await task;
                        var ack = new Ack(groupId, result.Seq, id, body);
                        if (acks.TryGetValue(id, out var earlier) && earlier != ack) conflicts.Enqueue($"{id}: {earlier} then {ack}");
                        acks[id] = ack;
                        pending.Remove(id);
                    }
                    catch (Exception e) when (e is not ChatApiException)
                    {
                        failed = true;
                    }
                }

                if (failed) throw new IOException("a send failed; reconnecting");
            }
            catch (Exception e) when (e is not ChatApiException)
            {
                http = null;
                if (socket is not null)
                {
                    socket.Abort();
                    await socket.DisposeAsync();
                    socket = null;
                }

                await Task.Delay(20);
            }
        }

        if (socket is not null) await socket.DisposeAsync();
    }

    private static async Task<(string Id, Guid GroupId, string Body, SendResult Result)> SendOneAsync(
        ChatHttpClient http, ChatSocket socket, string id, Guid groupId, string body, bool overWebSocket)
    {
        var result = overWebSocket ? await socket.SendAsync(groupId, id, body) : (await http.SendAsync(groupId, id, body)).Result;
        return (id, groupId, body, result);
    }
}
