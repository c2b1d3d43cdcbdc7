using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ChatServer.Client;
using HdrHistogram;
using MessagePack;

namespace ChatLoad;

/// <summary>
/// The client side of one run (one process's share of the connections): connects and authenticates its
/// clients, drives the scenario's requests, and counts and times what comes back. Latencies are in
/// microseconds, from <see cref="Stopwatch.GetTimestamp"/> (CLOCK_MONOTONIC, shared by every process on
/// the machine, so a timestamp written into a message body by one worker is read by another).
/// </summary>
internal sealed class Runner : IWsHandler
{
    private const int RidRing = 1024;
    private const uint HelloRid = 1;

    private readonly LoadOptions _o;
    private readonly Plan _plan;
    private readonly int[] _mine;
    private readonly WsClient[] _clients;
    private readonly Dictionary<(ulong, ulong), int> _groupByBytes = [];
    private readonly byte[][] _groupBin;
    private readonly long[] _ackedPerGroup;
    private readonly ConcurrentDictionary<ulong, SeqStat> _perSeq = new();
    private readonly IPEndPoint _gateway;
    private readonly string _runId;
    private volatile bool _running;
    private volatile bool _measuring;
    private int _connected;
    private long _sent, _acked, _errors, _delivered, _duplicates, _holes, _gaps, _unexpectedCloses, _synced;
    private string? _lastError;

    public Runner(LoadOptions o, Plan plan, int workerIndex, int workers, string runId)
    {
        _o = o;
        _plan = plan;
        _runId = runId;
        _gateway = o.Gateway;
        _mine = Enumerable.Range(0, plan.Clients.Length).Where(i => i % workers == workerIndex).ToArray();
        _clients = new WsClient[_mine.Length];
        _groupBin = new byte[plan.Groups.Length][];
        _ackedPerGroup = new long[plan.Groups.Length];
        for (int g = 0; g < plan.Groups.Length; g++)
        {
            var buffer = new ArrayBufferWriter<byte>(18);
            var w = new MessagePackWriter(buffer);
            ChatCodec.WriteGuid(ref w, plan.Groups[g].Id);
            w.Flush();
            _groupBin[g] = buffer.WrittenSpan.ToArray();
            _groupByBytes[Key(_groupBin[g].AsSpan(2))] = g;
        }
    }

    public LongConcurrentHistogram Latency { get; } = NewHistogram();

    public LongConcurrentHistogram AckLatency { get; } = NewHistogram();

    public LongConcurrentHistogram SyncTime { get; } = NewHistogram();

    public static LongConcurrentHistogram NewHistogram() => new(1, 3_600_000_000L, 3);

    /// <summary>Connects every client of this share and completes its Hello (resume: <paramref name="resume"/>).</summary>
    public async Task ConnectAllAsync(bool resume)
    {
        using var gate = new SemaphoreSlim(_o.ConnectConcurrency);
        var tasks = new Task[_mine.Length];
        for (int k = 0; k < _mine.Length; k++)
        {
            int local = k;
            await gate.WaitAsync().ConfigureAwait(false);
            tasks[k] = Task.Run(async () =>
            {
                try
                {
                    await ConnectOneAsync(local, resume).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref _errors);
                    _lastError = e.Message;
                }
                finally
                {
                    gate.Release();
                }
            });
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task ConnectOneAsync(int local, bool resume)
    {
        var cp = _plan.Clients[_mine[local]];
        var state = _clients[local]?.State as ClientState ?? new ClientState(cp, _o.Scenario == "reconnect-storm" ? _o.OfflineMessages : 0);
        var client = new WsClient(_mine[local], this) { State = state };
        long started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await client.ConnectAsync(_gateway, timeout.Token).ConfigureAwait(false);
        _clients[local] = client;
        state.Reset(started, resume);
        _ = client.RunAsync();
        object? resumeMap = null;
        if (resume)
        {
            var map = new Dictionary<Guid, long>();
            for (int i = 0; i < cp.Groups.Length; i++) map[_plan.Groups[cp.Groups[i]].Id] = (long)state.LastSeq[i];
            resumeMap = map;
        }

        client.Send(ChatCodec.BuildRequest(16, HelloRid, [cp.Token, resumeMap]));
        await state.Synced.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        Interlocked.Increment(ref _connected);
    }

    /// <summary>Drops every connection at once (no close handshake) and waits until all are closed.</summary>
    public async Task DropAllAsync()
    {
        foreach (var c in _clients) c?.Abort();
        var sw = Stopwatch.StartNew();
        while (Volatile.Read(ref _connected) > 0 && sw.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20).ConfigureAwait(false);
    }

    /// <summary>Every client reconnects with resume at once; returns the milliseconds until the last one is synced.</summary>
    public async Task<double> ResumeAllAsync()
    {
        _measuring = true;
        var sw = Stopwatch.StartNew();
        await ConnectAllAsync(resume: true).ConfigureAwait(false);
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>The load phase: senders and requesters run for the duration, then replies and deliveries drain.</summary>
    public async Task RunLoadAsync(TimeSpan duration)
    {
        _running = true;
        _measuring = true;
        var pacing = _o.Scenario is "fanout" or "large-group" ? Task.Run(() => PaceAsync(duration)) : Task.CompletedTask;
        if (_o.Scenario is "send" or "history")
        {
            foreach (var c in _clients)
            {
                if (c is null) continue;
                for (int i = 0; i < _o.InFlight; i++) Issue(c);
            }
        }

        await Task.Delay(duration).ConfigureAwait(false);
        _running = false;
        await pacing.ConfigureAwait(false);
        var drain = Stopwatch.StartNew();
        long last = -1;
        while (drain.Elapsed < TimeSpan.FromSeconds(_o.DrainSeconds))
        {
            await Task.Delay(250).ConfigureAwait(false);
            long now = Interlocked.Read(ref _delivered) + Interlocked.Read(ref _acked);
            if (now == last && Interlocked.Read(ref _acked) + Interlocked.Read(ref _errors) >= Interlocked.Read(ref _sent)) break;
            last = now;
        }

        _measuring = false;
    }

    /// <summary>Sends <c>rate</c> messages per second to each group whose sender is in this share, evenly paced.</summary>
    private async Task PaceAsync(TimeSpan duration)
    {
        var senders = _clients.Where(c => c is not null && ((ClientState)c.State!).Plan.SendGroup >= 0).ToArray();
        var sw = Stopwatch.StartNew();
        long sentEach = 0;
        while (_running && sw.Elapsed < duration)
        {
            long due = (long)(sw.Elapsed.TotalSeconds * _o.Rate);
            for (; sentEach < due; sentEach++)
            {
                foreach (var c in senders) Issue(c);
            }

            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the scenario's next request on a client (Send, or Open/History alternately).</summary>
    private void Issue(WsClient c)
    {
        var s = (ClientState)c.State!;
        uint rid;
        lock (s)
        {
            rid = s.NextRid++;
            if (s.NextRid == 0) s.NextRid = HelloRid + 1;
            s.SentAt[rid % RidRing] = Stopwatch.GetTimestamp();
        }

        var buffer = t_writer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var w = new MessagePackWriter(buffer);
        if (_o.Scenario == "history")
        {
            int g = s.Plan.Groups[0];
            bool open = (rid & 1) == 0;
            w.WriteArrayHeader(open ? 4 : 5);
            w.Write(open ? 40 : 49);
            w.Write(rid);
            w.WriteRaw(_groupBin[g]);
            if (!open) w.Write((ulong)Random.Shared.Next(51, Math.Max(52, _o.HistoryMessages)));
            w.Write(50);
        }
        else
        {
            int g = s.Plan.SendGroup;
            w.WriteArrayHeader(5);
            w.Write(48);
            w.Write(rid);
            w.WriteRaw(_groupBin[g]);
            byte[] scratch = t_scratch ??= new byte[64 + Math.Max(_o.BodyBytes, 24)];
            int n = System.Text.Encoding.ASCII.GetBytes($"{_runId}-{c.Index}-{rid}-{s.Round}", scratch);
            w.WriteString(scratch.AsSpan(0, n));
            var body = scratch.AsSpan(64, Math.Max(_o.BodyBytes, 24));
            body.Fill((byte)'.');
            Utf8Formatter.TryFormat(Stopwatch.GetTimestamp(), body, out int written);
            body[written] = (byte)' ';
            w.WriteString(body);
        }

        w.Flush();
        if (c.Send(buffer.WrittenSpan)) Interlocked.Increment(ref _sent);
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_writer;

    [ThreadStatic]
    private static byte[]? t_scratch;

    public void OnReply(WsClient client, uint rid, ref MessagePackReader rest)
    {
        var s = (ClientState)client.State!;
        if (rid == HelloRid) return;
        long us = Micros(s.SentAt[rid % RidRing]);
        Interlocked.Increment(ref _acked);
        if (_o.Scenario == "history")
        {
            Latency.RecordValue(us);
        }
        else
        {
            AckLatency.RecordValue(us);
            if (s.Plan.SendGroup >= 0) Interlocked.Increment(ref _ackedPerGroup[s.Plan.SendGroup]);
        }

        if (_running && _o.Scenario is "send" or "history") Issue(client);
    }

    public void OnError(WsClient client, uint rid, string code)
    {
        Interlocked.Increment(ref _errors);
        _lastError = code;
        var s = (ClientState)client.State!;
        if (rid == HelloRid) s.Synced.TrySetException(new InvalidOperationException("Hello failed: " + code));
        else if (_running && _o.Scenario is "send" or "history") Issue(client);
    }

    public void OnPush(WsClient client, int type, ref MessagePackReader r)
    {
        var s = (ClientState)client.State!;
        switch (type)
        {
            case 1:
                OnEvent(client, s, ref r);
                break;
            case 8:
                Interlocked.Increment(ref _gaps);
                break;
            case 9:
                if (s.Resuming && s.ReplayExpected > 0)
                {
                    for (int i = 0; i < s.Replayed.Length; i++)
                    {
                        if (s.Replayed[i] != s.ReplayExpected) Interlocked.Add(ref _holes, Math.Abs(s.ReplayExpected - s.Replayed[i]));
                    }
                }

                if (s.Resuming) SyncTime.RecordValue(Micros(s.ConnectStarted));
                Interlocked.Increment(ref _synced);
                s.Synced.TrySetResult();
                break;
            case 10:
                Interlocked.Increment(ref _errors);
                _lastError = "goodbye";
                break;
            default:
                break;
        }
    }

    private void OnEvent(WsClient client, ClientState s, ref MessagePackReader r)
    {
        var gbytes = r.ReadBytes()!.Value;
        if (gbytes.Length != 16) return;
        Span<byte> g16 = stackalloc byte[16];
        gbytes.CopyTo(g16);
        if (!_groupByBytes.TryGetValue(Key(g16), out int g)) return;
        ulong seq = r.ReadUInt64();
        int kind = r.ReadInt32();
        r.Skip(); // actorId
        r.Skip(); // atMs
        r.Skip(); // clientMsgId
        int slot = Array.IndexOf(s.Plan.Groups, g);
        if (slot < 0) return;
        lock (s)
        {
            ulong last = s.LastSeq[slot];
            if (seq <= last && last != 0)
            {
                Interlocked.Increment(ref _duplicates);
                return;
            }

            if (last != 0 && seq > last + 1 && !s.Resuming) Interlocked.Add(ref _holes, (long)(seq - last - 1));
            s.LastSeq[slot] = seq;
            if (s.Resuming && !s.Synced.Task.IsCompleted) s.Replayed[slot]++;
        }

        Interlocked.Increment(ref _delivered);
        if (kind != 1 || !_measuring || !r.TryReadStringSpan(out var body)) return;
        if (!Utf8Parser.TryParse(body, out long ticks, out _) || ticks <= 0) return;
        long us = Micros(ticks);
        if (_o.Scenario is "fanout" or "large-group")
        {
            Latency.RecordValue(us);
            if (_o.Scenario == "large-group") _perSeq.GetOrAdd(seq, _ => new SeqStat()).Add(us);
        }
    }

    public void OnClosed(WsClient client)
    {
        Interlocked.Decrement(ref _connected);
        var s = (ClientState)client.State!;
        s.Synced.TrySetException(new IOException("closed before Synced"));
        if (_running) Interlocked.Increment(ref _unexpectedCloses);
    }

    public Snapshot Snap() => new(
        Volatile.Read(ref _connected), Interlocked.Read(ref _sent), Interlocked.Read(ref _acked), Interlocked.Read(ref _delivered),
        Interlocked.Read(ref _errors), P99(Latency.TotalCount > 0 ? Latency : AckLatency), ProcStats.OwnCpuSeconds());

    private static long P99(HistogramBase h) => h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(99);

    public WorkerResult Result(double syncedMs) => new(
        Snap(), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _holes), Interlocked.Read(ref _gaps),
        Interlocked.Read(ref _unexpectedCloses), Interlocked.Read(ref _synced), syncedMs, _lastError,
        (long[])_ackedPerGroup.Clone(), Dump(Latency), Dump(AckLatency), Dump(SyncTime),
        _perSeq.Select(kv => new[] { (long)kv.Key, kv.Value.Count, kv.Value.Max }).ToArray());

    private static long[][] Dump(HistogramBase h) =>
        h.RecordedValues().Select(v => new[] { v.ValueIteratedTo, v.CountAtValueIteratedTo }).ToArray();

    private static long Micros(long startTicks) =>
        Math.Max(1, (Stopwatch.GetTimestamp() - startTicks) * 1_000_000 / Stopwatch.Frequency);

    private static (ulong, ulong) Key(ReadOnlySpan<byte> b) =>
        (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b), System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b[8..]));

    private sealed class SeqStat
    {
        private long _count;
        private long _max;

        public long Count => Interlocked.Read(ref _count);

        public long Max => Interlocked.Read(ref _max);

        public void Add(long us)
        {
            Interlocked.Increment(ref _count);
            long m;
            while (us > (m = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, us, m) != m)
            {
            }
        }
    }

    private sealed class ClientState
    {
        public ClientState(ClientPlan plan, int replayExpected)
        {
            Plan = plan;
            LastSeq = new ulong[plan.Groups.Length];
            Replayed = new int[plan.Groups.Length];
            ReplayExpected = replayExpected;
        }

        public ClientPlan Plan { get; }

        public ulong[] LastSeq { get; }

        public int[] Replayed { get; }

        public int ReplayExpected { get; }

        public long[] SentAt { get; } = new long[RidRing];

        public uint NextRid { get; set; } = HelloRid + 1;

        public int Round { get; private set; }

        public bool Resuming { get; private set; }

        public long ConnectStarted { get; private set; }

        public TaskCompletionSource Synced { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Reset(long started, bool resuming)
        {
            Round++;
            ConnectStarted = started;
            Resuming = resuming;
            Array.Clear(Replayed);
            Synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}

/// <summary>Live counters of one share.</summary>
internal sealed record Snapshot(int Connected, long Sent, long Acked, long Delivered, long Errors, long P99Us, double CpuSeconds);

/// <summary>The final numbers of one share, merged by the coordinator.</summary>
internal sealed record WorkerResult(
    Snapshot Counters, long Duplicates, long Holes, long Gaps, long UnexpectedCloses, long Synced, double SyncedMs, string? LastError,
    long[] AckedPerGroup, long[][] Latency, long[][] AckLatency, long[][] SyncTime, long[][] PerSeq);
