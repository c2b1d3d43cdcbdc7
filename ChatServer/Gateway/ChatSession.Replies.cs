using ChatServer.Chat;
using ChatServer.Protocol;
using ChatServer.Storage;

namespace ChatServer.Gateway;

internal sealed partial class ChatSession
{
    private async Task ReplyGroupAsync(uint rid, Task<Result<GroupView>> operation) => ReplyGroup(rid, await Guard(operation));

    private async Task ReplyMemberAsync(uint rid, Task<Result<MemberView>> operation)
    {
        var result = await Guard(operation);
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 1);
        WireRecords.WriteMember(ref w, result.Value!);
        Reply(fb.ToFrame(ref w));
    }

    private async Task ReplyEmptyAsync(uint rid, Task<Result<Unit>> operation) => ReplyEmpty(rid, await Guard(operation));

    private async Task ReplySeqAsync(uint rid, Task<Result<ulong>> operation)
    {
        var result = await Guard(operation);
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 1);
        w.Write(result.Value);
        Reply(fb.ToFrame(ref w));
    }

    private async Task ReplySendAsync(uint rid, Task<Result<SendOutcome>> operation)
    {
        var result = await Guard(operation);
        if (result.IsOk) _metrics.Sent();
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var s = result.Value!;
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 3);
        w.Write(s.Seq);
        Wire.WriteUuid(ref w, s.MessageId);
        Wire.WriteLong(ref w, s.SentAtMs);
        Reply(fb.ToFrame(ref w));
    }

    private void ReplyEmpty(uint rid, Result<Unit> result)
    {
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 0);
        Reply(fb.ToFrame(ref w));
    }

    private void ReplyGroup(uint rid, Result<GroupView> result)
    {
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 1);
        WireRecords.WriteGroup(ref w, result.Value!);
        Reply(fb.ToFrame(ref w));
    }

    private void ReplyGroupPage(uint rid, Result<Page<GroupView>> result)
    {
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var page = result.Value!;
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 2);
        w.WriteArrayHeader(page.Items.Count);
        foreach (var g in page.Items) WireRecords.WriteGroup(ref w, g);
        Wire.WriteUuidOrNil(ref w, page.NextCursor);
        Reply(fb.ToFrame(ref w));
    }

    private void ReplyMemberPage(uint rid, Result<Page<MemberView>> result)
    {
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var page = result.Value!;
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 2);
        w.WriteArrayHeader(page.Items.Count);
        foreach (var m in page.Items) WireRecords.WriteMember(ref w, m);
        Wire.WriteUuidOrNil(ref w, page.NextCursor);
        Reply(fb.ToFrame(ref w));
    }

    private void ReplyOpen(uint rid, Result<OpenView> result)
    {
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var open = result.Value!;
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 3);
        WireRecords.WriteGroup(ref w, open.Group);
        w.WriteArrayHeader(open.Events.Count);
        foreach (var e in open.Events) WireRecords.WriteEvent(ref w, e);
        w.Write(open.HasMore);
        Reply(fb.ToFrame(ref w));
    }

    private void ReplyHistory(uint rid, Result<(IReadOnlyList<EventRecord> Events, bool HasMore)> result)
    {
        if (rid == 0) return;
        if (!result.IsOk) { ReplyError(rid, result.Error!); return; }
        var (events, more) = result.Value;
        var fb = FrameBuilder.Current;
        var w = WireRecords.StartReply(fb, rid, 2);
        w.WriteArrayHeader(events.Count);
        foreach (var e in events) WireRecords.WriteEvent(ref w, e);
        w.Write(more);
        Reply(fb.ToFrame(ref w));
    }

    private static async Task<Result<T>> Guard<T>(Task<Result<T>> operation)
    {
        try
        {
            return await operation;
        }
        catch (StorageUnavailableException ex)
        {
            return ChatError.Unavailable(ex.Message);
        }
#pragma warning disable CA1031 // A failed operation must still get its one reply; the error is reported as internal.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ChatError.Internal(ex.GetType().Name);
        }
    }
}
