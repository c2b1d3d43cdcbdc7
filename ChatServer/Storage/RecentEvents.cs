using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace ChatServer.Storage;

/// <summary>
/// The newest events of the groups being read, decoded, in their current state: a page of recent history is
/// served from here instead of a store read and a decode per event. Each group read gets a ring of
/// <see cref="Slots"/> entries (slot = seq mod <see cref="Slots"/>), created on its first read; every write of an
/// event key replaces its slot after the store has it, and a read fills a slot only if nothing replaced it
/// meanwhile (so an entry is never older than the store) and the slot held no newer event. At most
/// <see cref="MaxGroups"/> rings and about <see cref="MaxBytes"/> of entries are kept (past either, every ring is
/// dropped and refilled by later reads): peers choose the groups they page and the size of their messages.
/// </summary>
internal sealed class RecentEvents
{
    public const int Slots = 256;
    public const int MaxGroups = 512;

    /// <summary>Budget for the kept entries: stored bytes, decoded record and wire encoding, estimated by <see cref="Cost"/>.</summary>
    public const long MaxBytes = 64L << 20;

    private readonly ConcurrentDictionary<Guid, Entry?[]> _rings = new();
    private long _bytes;

    private sealed record Entry(ulong Seq, byte[] Bytes, EventRecord? Decoded);

    /// <summary>Bytes kept in the rings (an estimate; for tests and metrics).</summary>
    public long KeptBytes => Volatile.Read(ref _bytes);

    /// <summary>
    /// Estimated memory of an entry: the stored bytes, the decoded strings (UTF-16, up to twice the stored UTF-8)
    /// and the wire encoding (about the stored size), plus object overheads.
    /// </summary>
    private static long Cost(Entry? e) => e is null ? 0 : (e.Bytes.Length * 4L) + 256;

    private void Account(Entry? added, Entry? removed)
    {
        if (Interlocked.Add(ref _bytes, Cost(added) - Cost(removed)) > MaxBytes) DropAll();
    }

    private void DropAll()
    {
        _rings.Clear();
        Volatile.Write(ref _bytes, 0);
    }

    /// <summary>Called after the store took a write of an event key (a delete clears the slot).</summary>
    public void Written(ReadOnlySpan<byte> eventKey, byte[]? value)
    {
        // The store's write must be visible before the ring lookup: a read that creates the ring after this
        // lookup missed it then reads the store and sees the write.
        Interlocked.MemoryBarrier();
        var groupId = StoreKeys.ReadGuid(eventKey, 1);
        if (!_rings.TryGetValue(groupId, out var ring)) return;
        var seq = BinaryPrimitives.ReadUInt64BigEndian(eventKey[17..]);
        var entry = value is null ? null : new Entry(seq, value, null);
        Account(entry, Interlocked.Exchange(ref ring[(int)(seq % Slots)], entry));
    }

    /// <summary>
    /// The event at (group, seq): from the group's ring, else read from the store with <paramref name="session"/>
    /// and kept. Without <paramref name="keep"/> (single reads) a group that has no ring does not get one.
    /// </summary>
    public EventRecord? Read(Guid groupId, ulong seq, KvSession session, bool keep)
    {
        Span<byte> key = stackalloc byte[25];
        key = key[..StoreKeys.WriteEventKey(key, groupId, seq)];
        if (!keep && !_rings.ContainsKey(groupId)) return session.Read(key) is { } stored ? RecordCodec.DecodeEvent(stored) : null;

        var ring = RingOf(groupId);
        ref var slot = ref ring[(int)(seq % Slots)];
        var seen = Volatile.Read(ref slot);
        if (seen is not null && seen.Seq == seq)
        {
            if (seen.Decoded is { } hit) return hit;
            var decoded = RecordCodec.DecodeEvent(seen.Bytes);
            Interlocked.CompareExchange(ref slot, seen with { Decoded = decoded }, seen);
            return decoded;
        }

        var bytes = session.Read(key);
        if (bytes is null) return null;
        var ev = RecordCodec.DecodeEvent(bytes);

        // Only if no write replaced the slot since it was looked at (a concurrent write is newer than this read),
        // and never over a newer event: paging far back does not push out the newest ones.
        if (seen is null || seen.Seq < seq)
        {
            var entry = new Entry(seq, bytes, ev);
            if (Interlocked.CompareExchange(ref slot, entry, seen) == seen) Account(entry, seen);
        }

        return ev;
    }

    private Entry?[] RingOf(Guid groupId)
    {
        if (_rings.TryGetValue(groupId, out var ring)) return ring;
        if (_rings.Count >= MaxGroups) DropAll();

        return _rings.GetOrAdd(groupId, _ => new Entry?[Slots]);
    }
}
