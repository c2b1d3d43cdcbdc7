using ChatServer.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatServer.Tests.Storage;

/// <summary>The recent-events rings on a real store: pages are served in current state, within a memory budget.</summary>
public sealed class RecentEventsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("chat-recent-").FullName;
    private StorageEngine _store = null!;

    public Task InitializeAsync()
    {
        _store = new StorageEngine(new StorageOptions { DataDirectory = _dir, Durability = DurabilityMode.Relaxed }, NullLogger<StorageEngine>.Instance);
        _store.Open((_, _) => { });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Paging_many_groups_of_large_messages_keeps_the_rings_within_their_byte_budget()
    {
        // 12 groups × 120 events × ~15 KB: about 4 times the budget if everything paged were kept.
        var body = new string('b', 15_000);
        var groups = Enumerable.Range(0, 12).Select(_ => Guid.CreateVersion7()).ToArray();
        foreach (var g in groups)
        {
            var mutations = new List<Mutation>();
            for (ulong seq = 1; seq <= 120; seq++) mutations.Add(new(StoreKeys.ForEvent(g, seq), RecordCodec.Encode(Message(g, seq, body))));
            var entry = new WalEntry(mutations);
            await _store.CommitAsync(entry);
        }

        long peak = 0;
        foreach (var g in groups)
        {
            using var reader = _store.LeaseReader();
            for (ulong seq = 1; seq <= 120; seq++)
            {
                var ev = reader.ReadEvent(g, seq, page: true);
                Assert.NotNull(ev);
                Assert.Equal(seq, ev.Seq);
                Assert.Equal(body, ev.Body);
                peak = Math.Max(peak, _store.RecentEventBytes);
            }
        }

        Assert.InRange(peak, 1, RecentEvents.MaxBytes);
        Assert.InRange(_store.RecentEventBytes, 1, RecentEvents.MaxBytes);
    }

    [Fact]
    public async Task A_write_after_a_page_read_replaces_the_kept_event_and_its_wire_encoding()
    {
        var g = Guid.CreateVersion7();
        await _store.CommitAsync(new WalEntry([new(StoreKeys.ForEvent(g, 1), RecordCodec.Encode(Message(g, 1, "first")))]));
        EventRecord before;
        using (var reader = _store.LeaseReader()) before = reader.ReadEvent(g, 1, page: true)!;
        before.WireEncoding = [1, 2, 3];
        using (var reader = _store.LeaseReader()) Assert.Same(before, reader.ReadEvent(g, 1, page: true));

        await _store.CommitAsync(new WalEntry([new(StoreKeys.ForEvent(g, 1), RecordCodec.Encode(Message(g, 1, "edited") with { EditedAtMs = 5 }))]));
        EventRecord after;
        using (var reader = _store.LeaseReader()) after = reader.ReadEvent(g, 1, page: true)!;
        Assert.Equal("edited", after.Body);
        Assert.Null(after.WireEncoding);
        Assert.Null((before with { Body = "copy" }).WireEncoding);
        var copy = before with { };
        Assert.Null(copy.WireEncoding);
        Assert.Equal(before, copy);
        Assert.Equal(before.GetHashCode(), copy.GetHashCode());
        Assert.Equal([1, 2, 3], before.WireEncoding);
    }

    private static EventRecord Message(Guid group, ulong seq, string body) =>
        new(group, seq, Guid.CreateVersion7(), EventKinds.Message, Guid.CreateVersion7(), 1_764_400_000_000, "c-" + seq, body, null, null, false, null);
}
