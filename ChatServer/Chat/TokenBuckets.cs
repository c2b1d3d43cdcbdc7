using System.Collections.Concurrent;

namespace ChatServer.Chat;

/// <summary>Per-key token buckets (rate per second, burst); answers how long to wait when empty.</summary>
internal sealed class TokenBuckets
{
    private readonly ConcurrentDictionary<Guid, Bucket> _buckets = new();
    private readonly double _rate;
    private readonly double _burst;
    private readonly TimeProvider _time;

    public TokenBuckets(double ratePerSecond, int burst, TimeProvider time)
    {
        _rate = ratePerSecond;
        _burst = burst;
        _time = time;
    }

    /// <summary>Takes one token; returns 0 when allowed, else the milliseconds until one is available.</summary>
    public long TryTake(Guid key)
    {
        var bucket = _buckets.GetOrAdd(key, static (_, burst) => new Bucket { Tokens = burst, Stamp = 0 }, _burst);
        var now = _time.GetTimestamp();
        lock (bucket)
        {
            if (bucket.Stamp != 0)
            {
                var elapsed = _time.GetElapsedTime(bucket.Stamp, now).TotalSeconds;
                bucket.Tokens = Math.Min(_burst, bucket.Tokens + (elapsed * _rate));
            }

            bucket.Stamp = now;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return 0;
            }

            return Math.Max(1, (long)Math.Ceiling((1 - bucket.Tokens) / _rate * 1000));
        }
    }

    private sealed class Bucket
    {
        public double Tokens;
        public long Stamp;
    }
}
