namespace ChatServer.Storage;

/// <summary>
/// A first-in first-out hand-off to one consumer thread: producers never block, the consumer blocks until there is
/// something to take. Used between the storage engine's dedicated threads, whose waits must not depend on the
/// thread pool (a busy pool would otherwise delay every commit behind the work it queued).
/// </summary>
internal sealed class HandoffQueue<T>
{
    private readonly Queue<T> _items = new();
    private bool _closed;
    private bool _waiting;

    /// <summary>Adds <paramref name="item"/>; false once the queue is closed.</summary>
    public bool TryAdd(T item)
    {
        lock (_items)
        {
            if (_closed) return false;
            _items.Enqueue(item);
            if (_waiting) Monitor.Pulse(_items);
            return true;
        }
    }

    /// <summary>Refuses further items; the consumer still takes what is queued, then <see cref="TakeBatch"/> returns false.</summary>
    public void Close()
    {
        lock (_items)
        {
            _closed = true;
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>Waits for at least one item and moves up to <paramref name="max"/> into <paramref name="batch"/>; false when closed and empty.</summary>
    public bool TakeBatch(List<T> batch, int max)
    {
        lock (_items)
        {
            while (_items.Count == 0)
            {
                if (_closed) return false;
                _waiting = true;
                Monitor.Wait(_items);
                _waiting = false;
            }

            while (batch.Count < max && _items.TryDequeue(out var item)) batch.Add(item);
            return true;
        }
    }
}
