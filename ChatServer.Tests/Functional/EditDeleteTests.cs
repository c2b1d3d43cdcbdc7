using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class EditDeleteTests : IClassFixture<MessagingServerFixture>
{
    private readonly TestServer _server;

    public EditDeleteTests(MessagingServerFixture fixture) => _server = fixture.Server;

    [Fact]
    public async Task Edit_writes_a_kind_2_event_pushed_as_appended_and_history_shows_the_edited_message()
    {
        var room = await GroupAsync(_server, 1);
        var author = room.Members[0];
        await using var authorSocket = await author.ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();
        var sent = await authorSocket.SendAsync(room.Id, "e1", "original");

        var editSeq = await authorSocket.EditAsync(room.Id, sent.Seq, "edited over ws");
        var editSeq2 = await author.Http.EditAsync(room.Id, sent.Seq, "edited over http");

        Assert.Equal(sent.Seq + 1, editSeq);
        Assert.Equal(sent.Seq + 2, editSeq2);
        foreach (var s in new[] { authorSocket, ownerSocket })
        {
            var events = EventsOf(await PushesUntilEventAsync(s, room.Id, editSeq2), room.Id);
            Assert.Equal([sent.Seq, editSeq, editSeq2], events.Select(e => e.Seq));
            Assert.Equal("original", events[0].Body);
            Assert.Null(events[0].EditedAtMs);
            Assert.Equal((EventKind.Edit, "edited over ws", (long?)sent.Seq, author.Id), (events[1].Kind, events[1].Body, events[1].TargetSeq, events[1].ActorId));
            Assert.Equal((EventKind.Edit, "edited over http", (long?)sent.Seq), (events[2].Kind, events[2].Body, events[2].TargetSeq));
            Assert.Null(events[1].ClientMsgId);
        }

        var history = (await ownerSocket.HistoryAsync(room.Id)).Events;
        var message = history.Single(e => e.Seq == sent.Seq);
        var lastEdit = history.Single(e => e.Seq == editSeq2);
        Assert.Equal(("edited over http", "e1", false), (message.Body, message.ClientMsgId, message.Deleted));
        Assert.Equal(lastEdit.AtMs, message.EditedAtMs);
        Assert.Equal("edited over ws", history.Single(e => e.Seq == editSeq).Body);
        var open = await room.Owner.Http.OpenGroupAsync(room.Id, 3);
        Assert.Equal(message, open.Events[0]);
    }

    [Fact]
    public async Task Delete_writes_a_kind_3_event_and_history_shows_the_message_and_its_edits_deleted_with_empty_bodies()
    {
        var room = await GroupAsync(_server, 1);
        var author = room.Members[0];
        await using var authorSocket = await author.ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();
        var sent = await authorSocket.SendAsync(room.Id, "d1", "to delete");
        var editSeq = await authorSocket.EditAsync(room.Id, sent.Seq, "edited first");

        var deleteSeq = await authorSocket.DeleteAsync(room.Id, sent.Seq);

        var live = EventsOf(await PushesUntilEventAsync(ownerSocket, room.Id, deleteSeq), room.Id);
        Assert.Equal([sent.Seq, editSeq, deleteSeq], live.Select(e => e.Seq));
        Assert.Equal("edited first", live[1].Body);
        Assert.Equal((EventKind.Delete, (long?)sent.Seq, author.Id, false), (live[2].Kind, live[2].TargetSeq, live[2].ActorId, live[2].Deleted));
        foreach (var events in new[] { (await ownerSocket.HistoryAsync(room.Id)).Events, (await room.Owner.Http.OpenGroupAsync(room.Id, 10)).Events, (await author.Http.HistoryAsync(room.Id)).Events })
        {
            var message = events.Single(e => e.Seq == sent.Seq);
            Assert.True(message.Deleted);
            Assert.Equal(string.Empty, message.Body);
            Assert.Equal(string.Empty, events.Single(e => e.Seq == editSeq).Body);
            Assert.Equal(sent.Seq, events.Single(e => e.Seq == deleteSeq).TargetSeq);
        }
    }

    [Fact]
    public async Task History_read_before_an_edit_and_a_delete_shows_both_when_read_again_over_both_transports()
    {
        // The first pages keep the group's newest events in memory; the edit and the delete must replace them there.
        var room = await GroupAsync(_server, 1);
        var author = room.Members[0];
        await using var authorSocket = await author.ConnectAsync();
        var kept = await authorSocket.SendAsync(room.Id, "k1", "to be edited");
        var doomed = await authorSocket.SendAsync(room.Id, "k2", "to be deleted");
        for (var i = 0; i < 3; i++)
        {
            Assert.Contains((await authorSocket.HistoryAsync(room.Id)).Events, e => e.Seq == doomed.Seq && e.Body == "to be deleted");
            Assert.Contains((await room.Owner.Http.OpenGroupAsync(room.Id, 10)).Events, e => e.Seq == kept.Seq && e.Body == "to be edited");
        }

        await authorSocket.EditAsync(room.Id, kept.Seq, "edited while cached");
        await author.Http.DeleteAsync(room.Id, doomed.Seq);

        foreach (var events in new[] { (await authorSocket.HistoryAsync(room.Id)).Events, (await room.Owner.Http.HistoryAsync(room.Id)).Events, (await room.Owner.Http.OpenGroupAsync(room.Id, 10)).Events })
        {
            var edited = events.Single(e => e.Seq == kept.Seq);
            Assert.Equal(("edited while cached", false), (edited.Body, edited.Deleted));
            Assert.NotNull(edited.EditedAtMs);
            var deleted = events.Single(e => e.Seq == doomed.Seq);
            Assert.Equal((string.Empty, true), (deleted.Body, deleted.Deleted));
        }

        await ApiErrorAsync(() => authorSocket.EditAsync(room.Id, doomed.Seq, "zombie"), ChatErrorCodes.NotFound);
    }

    [Fact]
    public async Task Only_the_author_may_edit_and_editing_another_members_message_is_forbidden_even_for_the_owner()
    {
        var room = await GroupAsync(_server, 2);
        var (sent, _) = await room.Members[0].Http.SendAsync(room.Id, "x", "mine");
        await using var ownerSocket = await room.Owner.ConnectAsync();

        await ApiErrorAsync(() => ownerSocket.EditAsync(room.Id, sent.Seq, "owner edit"), ChatErrorCodes.Forbidden);
        await ApiErrorAsync(() => room.Members[1].Http.EditAsync(room.Id, sent.Seq, "other edit"), ChatErrorCodes.Forbidden);
        await ApiErrorAsync(() => room.Members[1].Http.DeleteAsync(room.Id, sent.Seq), ChatErrorCodes.Forbidden);
        Assert.Equal(sent.Seq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task The_owner_and_an_admin_may_delete_any_message_over_both_transports()
    {
        var room = await GroupAsync(_server, 2);
        var admin = room.Members[1];
        await room.Owner.Http.SetRoleAsync(room.Id, admin.Id, ChatRoles.Admin);
        var (m1, _) = await room.Members[0].Http.SendAsync(room.Id, "a", "one");
        var (m2, _) = await room.Members[0].Http.SendAsync(room.Id, "b", "two");
        await using var adminSocket = await admin.ConnectAsync();

        var d1 = await room.Owner.Http.DeleteAsync(room.Id, m1.Seq);
        var d2 = await adminSocket.DeleteAsync(room.Id, m2.Seq);

        Assert.Equal(m2.Seq + 1, d1);
        Assert.Equal(d1 + 1, d2);
        var history = (await admin.Http.HistoryAsync(room.Id)).Events;
        Assert.True(history.Single(e => e.Seq == m1.Seq).Deleted);
        Assert.True(history.Single(e => e.Seq == m2.Seq).Deleted);
        Assert.Equal(room.Owner.Id, history.Single(e => e.Seq == d1).ActorId);
    }

    [Fact]
    public async Task Edit_or_delete_of_a_deleted_message_or_a_missing_seq_is_not_found()
    {
        var room = await GroupAsync(_server, 0);
        await using var socket = await room.Owner.ConnectAsync();
        var sent = await socket.SendAsync(room.Id, "gone", "bye");
        var deleteSeq = await socket.DeleteAsync(room.Id, sent.Seq);

        await ApiErrorAsync(() => socket.EditAsync(room.Id, sent.Seq, "zombie"), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => room.Owner.Http.EditAsync(room.Id, sent.Seq, "zombie"), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => socket.DeleteAsync(room.Id, sent.Seq), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => room.Owner.Http.DeleteAsync(room.Id, sent.Seq), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => socket.EditAsync(room.Id, deleteSeq + 10, "future"), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => room.Owner.Http.DeleteAsync(room.Id, deleteSeq + 10), ChatErrorCodes.NotFound);
        Assert.Equal(deleteSeq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Edit_or_delete_of_an_event_that_is_not_a_message_is_invalid_argument()
    {
        var room = await GroupAsync(_server, 0);
        await using var socket = await room.Owner.ConnectAsync();
        var sent = await socket.SendAsync(room.Id, "m", "text");
        var editSeq = await socket.EditAsync(room.Id, sent.Seq, "text 2");

        await ApiErrorAsync(() => socket.EditAsync(room.Id, 1, "join"), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => room.Owner.Http.EditAsync(room.Id, 1, "join"), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => socket.DeleteAsync(room.Id, 1), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => room.Owner.Http.DeleteAsync(room.Id, 1), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => socket.EditAsync(room.Id, editSeq, "edit of an edit"), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => socket.DeleteAsync(room.Id, editSeq), ChatErrorCodes.InvalidArgument);
        Assert.Equal(editSeq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Edit_validates_the_body_like_send_and_non_members_are_refused()
    {
        var room = await GroupAsync(_server, 0);
        var stranger = await _server.NewUserAsync("stranger");
        await using var socket = await room.Owner.ConnectAsync();
        var sent = await socket.SendAsync(room.Id, "m", "text");

        await ApiErrorAsync(() => socket.EditAsync(room.Id, sent.Seq, ""), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => socket.EditAsync(room.Id, sent.Seq, "a\0"), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => room.Owner.Http.EditAsync(room.Id, sent.Seq, new string('x', 16385)), ChatErrorCodes.TooLarge);
        await ApiErrorAsync(() => stranger.Http.EditAsync(room.Id, sent.Seq, "hijack"), ChatErrorCodes.Forbidden);
        await ApiErrorAsync(() => stranger.Http.DeleteAsync(room.Id, sent.Seq), ChatErrorCodes.Forbidden);
        Assert.Equal(sent.Seq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }
}
