using ChatServer.Chat;
using ChatServer.Gateway.WebSockets;
using ChatServer.Protocol;
using ChatServer.Storage;
using MessagePack;

namespace ChatServer.Gateway;

internal sealed partial class ChatSession
{
    private enum Envelope
    {
        Ok,
        BadPayload,
        BadOp,
    }

    private static Envelope ReadEnvelope(ReadOnlyMemory<byte> payload, out int op, out uint rid, out MessagePackReader args)
    {
        op = -1;
        rid = 0;
        args = default;
        if (!Wire.IsSingleArray(payload)) return Envelope.BadPayload;
        var r = new MessagePackReader(payload);
        var count = r.ReadArrayHeader();
        if (count < 2) return Envelope.BadPayload;
        // Any integer is an op number; one that does not exist (negative or huge included) gets unknown_op.
        var opOk = r.NextMessagePackType == MessagePackType.Integer;
        if (opOk)
        {
            var code = r.NextCode;
            var isSigned = code is >= MessagePackCode.MinNegativeFixInt or MessagePackCode.Int8 or MessagePackCode.Int16 or MessagePackCode.Int32 or MessagePackCode.Int64;
            if (isSigned)
            {
                var v = r.ReadInt64();
                op = v is >= 0 and <= int.MaxValue ? (int)v : -1;
            }
            else
            {
                var v = r.ReadUInt64();
                op = v <= int.MaxValue ? (int)v : -1;
            }
        }
        else
        {
            r.Skip();
        }

        if (!Wire.TryReadUInt(ref r, allowNil: false, out var ridValue) || ridValue > uint.MaxValue) return Envelope.BadPayload;
        rid = (uint)ridValue!.Value;
        args = r;
        return opOk ? Envelope.Ok : Envelope.BadOp;
    }

    private async Task<bool> HandleHelloAsync(WebSocketMessage message)
    {
        if (message.Type == WebSocketMessageType.Close) return false;
        var envelope = ReadEnvelope(message.Payload, out var op, out var rid, out var r);
        if (envelope == Envelope.BadPayload)
        {
            await CloseAsync(1007, "a frame must be exactly one MessagePack array");
            return false;
        }

        if (envelope != Envelope.Ok || op != OpCodes.Hello)
        {
            await CloseAsync(ChatCloseCodes.NotAuthenticated, "the first frame must be Hello");
            return false;
        }

        if (rid == 0 || !Wire.TryReadString(ref r, allowNil: false, out var token) || !TryReadResume(ref r, out var resume))
        {
            Reply(WireRecords.ErrorReply(rid, ChatError.InvalidArgument("Hello takes [16, rid≠0, token, resume map or nil]")));
            await CloseAsync(ChatCloseCodes.NotAuthenticated, "malformed Hello");
            return false;
        }

        if (!Authenticate(token!, out var claims, out var outcome))
        {
            var expired = outcome == AuthOutcome.ExpiredOrRevoked;
            Reply(WireRecords.ErrorReply(rid, ChatError.Unauthenticated(expired ? "the token has expired or was revoked" : "invalid token")));
            await CloseAsync(expired ? ChatCloseCodes.TokenExpiredOrRevoked : ChatCloseCodes.NotAuthenticated, "authentication failed");
            return false;
        }

        UserId = claims.UserId;
        LoginId = claims.LoginId;
        TokenExpiresAtMs = claims.ExpiresAtMs;
        IsAuthenticated = true;

        HoldPushes();
        _registry.Add(this);

        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 5);
        Wire.WriteUuid(ref w, UserId);
        Wire.WriteUuid(ref w, SessionId);
        w.Write((uint)_options.HeartbeatMs);
        Wire.WriteLong(ref w, _time.GetUtcNow().ToUnixTimeMilliseconds());
        w.Write((uint)_options.MaxMessageBytes);
        Reply(fb.ToFrame(ref w));

        if (resume is not null) Replay(resume);
        _ws.TrySend(WireRecords.SyncedPush(), droppable: false);
        ReleasePushes();
        return true;
    }

    private static bool TryReadResume(ref MessagePackReader r, out Dictionary<Guid, ulong>? resume)
    {
        resume = null;
        if (r.End || r.TryReadNil()) return true;
        if (r.NextMessagePackType != MessagePackType.Map) return false;
        var n = r.ReadMapHeader();
        resume = new Dictionary<Guid, ulong>(Math.Min(n, 1024));
        for (var i = 0; i < n; i++)
        {
            if (!Wire.TryReadUuid(ref r, out var g) || !Wire.TryReadUInt(ref r, allowNil: false, out var seq)) return false;
            resume[g] = seq!.Value;
        }

        return true;
    }

    /// <summary>Replays what each resumed group missed, in order, with a Gap for what lies beyond the resume limit.</summary>
    private void Replay(Dictionary<Guid, ulong> resume)
    {
        var upTo = new Dictionary<Guid, ulong>(resume.Count);
        foreach (var (groupId, lastSeq) in resume)
        {
            if (!_registry.TryGetMemberGroup(groupId, UserId, out var group)) continue;
            ulong current;
            lock (group) current = group.LastSeq;
            upTo[groupId] = current;
            if (lastSeq >= current) continue;
            var from = lastSeq;
            var limit = (ulong)_chatOptions.ResumeLimit;
            if (current - lastSeq > limit)
            {
                from = current - limit;
                _ws.TrySend(WireRecords.GapPush(groupId, lastSeq + 1, from), droppable: false);
            }

            foreach (var ev in _groups.ReadAfter(group, from, current))
            {
                if (!TrySendReplayed(groupId, ev.Seq, current, WireRecords.EventPush(ev))) break;
            }
        }

        lock (_pushLock) _replayedUpTo = upTo;
    }

    /// <summary>Dispatches one request; returns false when the connection is closing.</summary>
    private bool Dispatch(ReadOnlyMemory<byte> payload)
    {
        var envelope = ReadEnvelope(payload, out var op, out var rid, out var r);
        if (envelope == Envelope.BadPayload)
        {
            _ = CloseAsync(1007, "a frame must be exactly one MessagePack array with a uint32 rid");
            return false;
        }

        if (envelope == Envelope.BadOp)
        {
            ReplyError(rid, ChatError.InvalidArgument("op must be an integer"));
            return true;
        }

        if (Interlocked.Increment(ref _inFlight) > _options.MaxInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            ReplyError(rid, ChatError.RateLimited("too many requests in flight", 100));
            if (++_floodStrikes > _options.MaxInFlight)
            {
                // Nothing more is read; the requests already accepted still get their replies before the close.
                _ = CloseAfterInFlightAsync(ChatCloseCodes.Flooding, "flooding");
                return false;
            }

            return true;
        }

        _floodStrikes = 0;
        try
        {
            var pending = Execute(op, rid, ref r);
            if (pending is null || pending.IsCompletedSuccessfully)
            {
                Interlocked.Decrement(ref _inFlight);
            }
            else
            {
                _ = FinishAsync(pending, rid);
            }
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            Interlocked.Decrement(ref _inFlight);
            ReplyError(rid, ChatError.InvalidArgument("arguments have the wrong types"));
        }
        catch (Exception ex)
        {
            Interlocked.Decrement(ref _inFlight);
            ReplyFailure(rid, ex);
        }

        return true;
    }

    /// <summary>
    /// The last line of the error mapping, so that every request still gets exactly one reply: a storage outage met
    /// outside a guarded call (a read falling through to PostgreSQL) is unavailable, anything else internal.
    /// </summary>
    private void ReplyFailure(uint rid, Exception error)
        => ReplyError(rid, error is StorageUnavailableException unavailable ? ChatError.Unavailable(unavailable.Message) : ChatError.Internal("the request failed"));

    private async Task CloseAfterInFlightAsync(ushort code, string reason)
    {
        for (var waited = 0; waited < 5000 && Volatile.Read(ref _inFlight) > 0; waited += 10)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), _time);
        }

        await CloseAsync(code, reason);
    }

    private async Task FinishAsync(Task pending, uint rid)
    {
        try
        {
            await pending;
        }
        catch (Exception ex)
        {
            ReplyFailure(rid, ex);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static ChatError BadArgs(string shape) => ChatError.InvalidArgument($"arguments must be {shape}");

    /// <summary>Runs one op; returns the pending work for async ops (null when the reply is already sent).</summary>
    private Task? Execute(int op, uint rid, ref MessagePackReader r)
    {
        switch (op)
        {
            case OpCodes.Hello:
                ReplyError(rid, ChatError.InvalidArgument("already authenticated"));
                return null;
            case OpCodes.Reauth:
                if (!Wire.TryReadString(ref r, false, out var token)) { ReplyError(rid, BadArgs("[token]")); return null; }
                DoReauth(rid, token!);
                return null;
            case OpCodes.GetUser:
                return DoGetUser(rid, ref r);
            case OpCodes.CreateGroup:
            {
                if (!Wire.TryReadString(ref r, false, out var name) || !Wire.TryReadString(ref r, true, out var description) || !Wire.TryReadBool(ref r, true, out var isPrivate))
                {
                    ReplyError(rid, BadArgs("[name, description or nil, private or nil]"));
                    return null;
                }

                return ReplyGroupAsync(rid, _groups.CreateAsync(UserId, name, description, isPrivate));
            }

            case OpCodes.GetGroup:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId)) { ReplyError(rid, BadArgs("[groupId]")); return null; }
                ReplyGroup(rid, _groups.Get(UserId, groupId));
                return null;
            }

            case OpCodes.ListGroups:
            {
                if (!TryReadOptionalUuid(ref r, out var after) || !TryReadLimit(ref r, out var limit)) { ReplyError(rid, BadArgs("[afterGroupId or nil, limit or nil]")); return null; }
                ReplyGroupPage(rid, _groups.List(UserId, after, limit));
                return null;
            }

            case OpCodes.JoinGroup:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId)) { ReplyError(rid, BadArgs("[groupId]")); return null; }
                return ReplyGroupAsync(rid, _groups.JoinAsync(UserId, groupId));
            }

            case OpCodes.LeaveGroup:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId)) { ReplyError(rid, BadArgs("[groupId]")); return null; }
                return ReplyEmptyAsync(rid, _groups.LeaveAsync(UserId, groupId));
            }

            case OpCodes.AddMember:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadUuid(ref r, out var userId)) { ReplyError(rid, BadArgs("[groupId, userId]")); return null; }
                return ReplyMemberAsync(rid, _groups.AddMemberAsync(UserId, groupId, userId));
            }

            case OpCodes.RemoveMember:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadUuid(ref r, out var userId)) { ReplyError(rid, BadArgs("[groupId, userId]")); return null; }
                return ReplyEmptyAsync(rid, _groups.RemoveMemberAsync(UserId, groupId, userId));
            }

            case OpCodes.ListMembers:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !TryReadOptionalUuid(ref r, out var after) || !TryReadLimit(ref r, out var limit))
                {
                    ReplyError(rid, BadArgs("[groupId, afterUserId or nil, limit or nil]"));
                    return null;
                }

                ReplyMemberPage(rid, _groups.ListMembers(UserId, groupId, after, limit));
                return null;
            }

            case OpCodes.Open:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !TryReadLimit(ref r, out var limit)) { ReplyError(rid, BadArgs("[groupId, limit or nil]")); return null; }
                ReplyOpen(rid, _groups.Open(UserId, groupId, limit));
                return null;
            }

            case OpCodes.Sync:
                return DoSync(rid, ref r);

            case OpCodes.UpdateGroup:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadString(ref r, true, out var name) || !Wire.TryReadString(ref r, true, out var description) || !Wire.TryReadBool(ref r, true, out var isPrivate))
                {
                    ReplyError(rid, BadArgs("[groupId, name or nil, description or nil, private or nil]"));
                    return null;
                }

                return ReplyGroupAsync(rid, _groups.UpdateAsync(UserId, groupId, name, description, isPrivate));
            }

            case OpCodes.SetRole:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadUuid(ref r, out var userId) || !Wire.TryReadString(ref r, false, out var role))
                {
                    ReplyError(rid, BadArgs("[groupId, userId, role]"));
                    return null;
                }

                return ReplyMemberAsync(rid, _groups.SetRoleAsync(UserId, groupId, userId, role));
            }

            case OpCodes.Send:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadString(ref r, false, out var clientMsgId) || !Wire.TryReadString(ref r, false, out var body))
                {
                    ReplyError(rid, BadArgs("[groupId, clientMsgId, body]"));
                    return null;
                }

                return ReplySendAsync(rid, _groups.SendAsync(UserId, groupId, clientMsgId, body));
            }

            case OpCodes.History:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadUInt(ref r, true, out var before) || !TryReadLimit(ref r, out var limit))
                {
                    ReplyError(rid, BadArgs("[groupId, beforeSeq or nil, limit or nil]"));
                    return null;
                }

                ReplyHistory(rid, _groups.History(UserId, groupId, before, limit));
                return null;
            }

            case OpCodes.MarkRead:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadUInt(ref r, false, out var seq)) { ReplyError(rid, BadArgs("[groupId, seq]")); return null; }
                return ReplyEmptyAsync(rid, _groups.MarkReadAsync(UserId, groupId, seq!.Value, this));
            }

            case OpCodes.Typing:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId)) { ReplyError(rid, BadArgs("[groupId]")); return null; }
                ReplyEmpty(rid, _groups.Typing(UserId, groupId, this));
                return null;
            }

            case OpCodes.Edit:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadUInt(ref r, false, out var seq) || !Wire.TryReadString(ref r, false, out var body))
                {
                    ReplyError(rid, BadArgs("[groupId, seq, body]"));
                    return null;
                }

                return ReplySeqAsync(rid, _groups.EditAsync(UserId, groupId, seq!.Value, body));
            }

            case OpCodes.Delete:
            {
                if (!Wire.TryReadUuid(ref r, out var groupId) || !Wire.TryReadUInt(ref r, false, out var seq)) { ReplyError(rid, BadArgs("[groupId, seq]")); return null; }
                return ReplySeqAsync(rid, _groups.DeleteAsync(UserId, groupId, seq!.Value));
            }

            default:
                ReplyError(rid, ChatError.UnknownOp($"op {op} does not exist"));
                return null;
        }
    }

    private void DoReauth(uint rid, string token)
    {
        var outcome = _accounts.Authenticate(token, out var claims);
        if (outcome != AuthOutcome.Ok)
        {
            ReplyError(rid, ChatError.Unauthenticated(outcome == AuthOutcome.ExpiredOrRevoked ? "the token has expired or was revoked" : "invalid token"));
            return;
        }

        if (claims.UserId != UserId)
        {
            ReplyError(rid, ChatError.Forbidden("the token belongs to another user"));
            return;
        }

        LoginId = claims.LoginId;
        TokenExpiresAtMs = claims.ExpiresAtMs;
        if (rid == 0) return;
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 1);
        Wire.WriteLong(ref w, claims.ExpiresAtMs);
        Reply(fb.ToFrame(ref w));
    }

    private Task? DoGetUser(uint rid, ref MessagePackReader r)
    {
        Result<UserRecord> result;
        if (!r.End && r.NextMessagePackType == MessagePackType.Binary)
        {
            if (!Wire.TryReadUuid(ref r, out var id)) { ReplyError(rid, BadArgs("[userId or \"@username\"]")); return null; }
            result = _accounts.GetUser(id);
        }
        else if (Wire.TryReadString(ref r, false, out var name) && name!.StartsWith('@'))
        {
            result = _accounts.GetUser(name);
        }
        else
        {
            ReplyError(rid, BadArgs("[userId or \"@username\"]"));
            return null;
        }

        if (rid == 0) return null;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return null; }
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 1);
        WireRecords.WriteUser(ref w, result.Value!);
        Reply(fb.ToFrame(ref w));
        return null;
    }

    private Task? DoSync(uint rid, ref MessagePackReader r)
    {
        if (r.End || r.NextMessagePackType != MessagePackType.Map) { ReplyError(rid, BadArgs("[map groupId → lastSeq]")); return null; }
        var n = r.ReadMapHeader();
        if (n > 500) { ReplyError(rid, ChatError.InvalidArgument("at most 500 groups per Sync")); return null; }
        var positions = new Dictionary<Guid, ulong>(n);
        for (var i = 0; i < n; i++)
        {
            if (!Wire.TryReadUuid(ref r, out var g) || !Wire.TryReadUInt(ref r, false, out var seq)) { ReplyError(rid, BadArgs("[map groupId → lastSeq]")); return null; }
            positions[g] = seq!.Value;
        }

        var result = _groups.Sync(UserId, positions);
        if (rid == 0) return null;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return null; }
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 1);
        w.WriteArrayHeader(result.Value!.Count);
        foreach (var item in result.Value!)
        {
            w.WriteArrayHeader(4);
            Wire.WriteUuid(ref w, item.GroupId);
            w.Write(item.LastSeq);
            w.Write((uint)item.Unread);
            if (item.Newest is { } e) WireRecords.WriteEvent(ref w, e);
            else w.WriteNil();
        }

        Reply(fb.ToFrame(ref w));
        return null;
    }

    private static bool TryReadOptionalUuid(ref MessagePackReader r, out Guid? id)
    {
        id = null;
        if (r.End || r.TryReadNil()) return true;
        if (!Wire.TryReadUuid(ref r, out var v)) return false;
        id = v;
        return true;
    }

    private static bool TryReadLimit(ref MessagePackReader r, out int? limit)
    {
        limit = null;
        if (!Wire.TryReadUInt(ref r, true, out var v)) return false;
        if (v is { } n) limit = n > int.MaxValue ? int.MaxValue : (int)n;
        return true;
    }
}
