using ChatServer.Auth;
using ChatServer.Chat;
using ChatServer.Gateway.WebSockets;
using ChatServer.Hosting;
using ChatServer.Protocol;

namespace ChatServer.Gateway;

/// <summary>
/// One authenticated WebSocket client: reads requests, dispatches them to the services, and receives pushes.
/// Pushes of a group arrive from the committer in seq order; while a resume replay runs they are held and
/// released after it (skipping what the replay already sent); past the outbound limit they are refused and
/// announced later as one Gap per group (PROTOCOL.md §5.3–§5.5).
/// </summary>
internal sealed partial class ChatSession
{
    private readonly WebSocketConnection _ws;
    private readonly SessionRegistry _registry;
    private readonly AccountService _accounts;
    private readonly GroupService _groups;
    private readonly GatewayOptions _options;
    private readonly ChatOptions _chatOptions;
    private readonly TimeProvider _time;
    private readonly Metrics _metrics;
    private readonly object _pushLock = new();
    private readonly Dictionary<Guid, (ulong From, ulong To)> _missed = new();
    private List<(Guid GroupId, ulong Seq, byte[] Frame)>? _held;
    private Dictionary<Guid, ulong>? _replayedUpTo;
    private bool _overflow;
    private bool _drainedDuringReplay;
    private int _inFlight;
    private int _floodStrikes;
    private int _closing;

    public ChatSession(WebSocketConnection ws, SessionRegistry registry, AccountService accounts, GroupService groups,
        GatewayOptions options, ChatOptions chatOptions, TimeProvider time, Metrics metrics)
    {
        _ws = ws;
        _registry = registry;
        _accounts = accounts;
        _groups = groups;
        _options = options;
        _chatOptions = chatOptions;
        _time = time;
        _metrics = metrics;
        _ws.Drained += OnDrained;
    }

    public Guid SessionId { get; } = Guid.CreateVersion7();

    public Guid UserId { get; private set; }

    public Guid LoginId { get; private set; }

    public long TokenExpiresAtMs { get; private set; }

    public bool IsAuthenticated { get; private set; }

    public WebSocketConnection Connection => _ws;

    /// <summary>Whether the session has started closing (Goodbye and close frame queued).</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    public bool IsOverflowing
    {
        get
        {
            lock (_pushLock) return _overflow;
        }
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            using (var helloTimeout = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            {
                helloTimeout.CancelAfter(TimeSpan.FromMilliseconds(_options.HelloTimeoutMs));
                WebSocketMessage first;
                try
                {
                    first = await _ws.ReceiveAsync(helloTimeout.Token);
                }
                catch (OperationCanceledException)
                {
                    await CloseAsync(ChatCloseCodes.NotAuthenticated, "no Hello within the deadline");
                    return;
                }

                if (!await HandleHelloAsync(first)) return;
            }

            while (!stopping.IsCancellationRequested && Volatile.Read(ref _closing) == 0)
            {
                var message = await _ws.ReceiveAsync(stopping);
                if (message.Type == WebSocketMessageType.Close) return;
                _metrics.FramesIn();
                if (!Dispatch(message.Payload)) return;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _registry.Remove(this);
        }
    }

    /// <summary>Sends Goodbye (if given) and closes with <paramref name="code"/>. Safe to call from any thread, once effective.</summary>
    public Task CloseAsync(ushort code, string? reason, string? goodbye = null, long? retryAfterMs = null)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return Task.CompletedTask;
        if (goodbye is not null) _ws.TrySend(WireRecords.GoodbyePush(goodbye, retryAfterMs), droppable: false);
        return _ws.CloseAsync(code, reason);
    }

    /// <summary>Pushes a group event (called on the committer, in seq order per group).</summary>
    public void PushEvent(Guid groupId, ulong seq, byte[] frame)
    {
        lock (_pushLock)
        {
            if (_held is not null)
            {
                _held.Add((groupId, seq, frame));
                return;
            }

            if (!AlreadyReplayedLocked(groupId, seq)) SendEventLocked(groupId, seq, frame);
        }
    }

    /// <summary>
    /// True for a live push the resume replay already sent: an event can be committed (and counted in the group's
    /// last seq the replay read) before its fan-out reaches this session. The first push past the replayed seq ends
    /// the check for that group.
    /// </summary>
    private bool AlreadyReplayedLocked(Guid groupId, ulong seq)
    {
        if (_replayedUpTo is null || !_replayedUpTo.TryGetValue(groupId, out var upTo)) return false;
        if (seq <= upTo) return true;
        _replayedUpTo.Remove(groupId);
        if (_replayedUpTo.Count == 0) _replayedUpTo = null;
        return false;
    }

    /// <summary>Typing and ReadUpTo: ephemeral, dropped when the session is over its outbound limit.</summary>
    public void PushEphemeral(byte[] frame)
    {
        lock (_pushLock)
        {
            if (_overflow || _held is not null) return;
            if (_ws.TrySend(frame, droppable: true)) _metrics.Delivered();
        }
    }

    private void SendEventLocked(Guid groupId, ulong seq, byte[] frame)
    {
        if (!_overflow && _ws.TrySend(frame, droppable: true))
        {
            _metrics.Delivered();
            return;
        }

        _overflow = true;
        _missed[groupId] = _missed.TryGetValue(groupId, out var range) ? (range.From, seq) : (seq, seq);
    }

    /// <summary>
    /// Queues one resume-replayed event under the same outbound limit as live pushes. Once over it, the rest of the
    /// group's replay (through <paramref name="upTo"/>) joins the missed range announced as a Gap after the drain.
    /// </summary>
    private bool TrySendReplayed(Guid groupId, ulong seq, ulong upTo, byte[] frame)
    {
        lock (_pushLock)
        {
            SendEventLocked(groupId, seq, frame);
            if (!_overflow) return true;
            _missed[groupId] = (_missed[groupId].From, upTo);
            return false;
        }
    }

    private void OnDrained()
    {
        lock (_pushLock)
        {
            if (_held is not null)
            {
                // A resume replay is still being queued: its Gap comes after Synced, from ReleasePushes.
                _drainedDuringReplay = true;
                return;
            }

            AnnounceMissedLocked();
        }
    }

    private void AnnounceMissedLocked()
    {
        if (!_overflow) return;
        foreach (var (groupId, range) in _missed)
        {
            _ws.TrySend(WireRecords.GapPush(groupId, range.From, range.To), droppable: false);
        }

        _missed.Clear();
        _overflow = false;
    }

    /// <summary>Starts holding pushes while a resume replay is produced.</summary>
    private void HoldPushes()
    {
        lock (_pushLock) _held = new List<(Guid, ulong, byte[])>();
    }

    /// <summary>Releases the held pushes after the replay, skipping seqs the replay already sent.</summary>
    private void ReleasePushes()
    {
        lock (_pushLock)
        {
            var held = _held;
            _held = null;
            if (held is null) return;
            if (_drainedDuringReplay)
            {
                _drainedDuringReplay = false;
                AnnounceMissedLocked();
            }

            foreach (var (groupId, seq, frame) in held)
            {
                if (!AlreadyReplayedLocked(groupId, seq)) SendEventLocked(groupId, seq, frame);
            }
        }
    }

    private void Reply(byte[] frame)
    {
        _ws.TrySend(frame, droppable: false);
        _metrics.FramesOut();
    }

    private void ReplyError(uint rid, ChatError error)
    {
        if (rid != 0) Reply(WireRecords.ErrorReply(rid, error));
    }

    private bool Authenticate(string token, out AccessTokenClaims claims, out AuthOutcome outcome)
    {
        outcome = _accounts.Authenticate(token, out claims);
        return outcome == AuthOutcome.Ok;
    }
}
