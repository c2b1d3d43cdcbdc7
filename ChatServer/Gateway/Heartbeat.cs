using ChatServer.Hosting;
using ChatServer.Protocol;

namespace ChatServer.Gateway;

/// <summary>
/// One timer for every connection: pings every heartbeatMs, closes silent connections (4002), expired
/// tokens (Goodbye token_expired, 4003) and slow consumers that drain nothing (Goodbye slow_consumer, 4009).
/// </summary>
internal sealed class Heartbeat : BackgroundService
{
    private readonly SessionRegistry _registry;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;

    public Heartbeat(SessionRegistry registry, GatewayOptions options, TimeProvider time)
    {
        _registry = registry;
        _options = options;
        _time = time;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Min(1000, _options.HeartbeatMs));
        var lastPing = _time.GetTimestamp();
        using var timer = new PeriodicTimer(tick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var ping = _time.GetElapsedTime(lastPing).TotalMilliseconds >= _options.HeartbeatMs;
                if (ping) lastPing = _time.GetTimestamp();
                Tick(ping);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One pass over every session (public for tests that drive time by hand).</summary>
    public void Tick(bool ping)
    {
        var now = _time.GetTimestamp();
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var s in _registry.All)
        {
            var ws = s.Connection;
            if (_time.GetElapsedTime(ws.LastReceivedTimestamp, now).TotalMilliseconds > _options.IdleTimeoutMs)
            {
                _ = s.CloseAsync(ChatCloseCodes.HeartbeatTimeout, "heartbeat timeout");
                continue;
            }

            if (s.IsAuthenticated && nowMs >= s.TokenExpiresAtMs)
            {
                _ = s.CloseAsync(ChatCloseCodes.TokenExpiredOrRevoked, "token expired", "token_expired");
                continue;
            }

            if (s.IsOverflowing && _time.GetElapsedTime(ws.LastDrainTimestamp, now).TotalMilliseconds > _options.SlowConsumerTimeoutMs)
            {
                _ = s.CloseAsync(ChatCloseCodes.SlowConsumer, "slow consumer", "slow_consumer");
                continue;
            }

            if (ping) ws.SendPing();
        }
    }
}
