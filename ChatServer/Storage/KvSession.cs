using FASTER.core;

namespace ChatServer.Storage;

/// <summary>A FASTER session (single-threaded at a time) with byte-array keys and values.</summary>
internal sealed unsafe class KvSession : IDisposable
{
    private readonly ClientSession<SpanByte, SpanByte, SpanByte, byte[], Empty, SpanByteFunctions_ByteArrayOutput<Empty>> _session;

    public KvSession(FasterKV<SpanByte, SpanByte> store)
    {
        _session = store.For(new SpanByteFunctions_ByteArrayOutput<Empty>()).NewSession<SpanByteFunctions_ByteArrayOutput<Empty>>();
    }

    public byte[]? Read(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            var spanKey = SpanByte.FromPointer(k, key.Length);
            var input = default(SpanByte);
            byte[] output = null!;
            var status = _session.Read(ref spanKey, ref input, ref output);
            if (status.IsPending)
            {
                _session.CompletePendingWithOutputs(out var outputs, wait: true);
                using (outputs)
                {
                    if (outputs.Next())
                    {
                        status = outputs.Current.Status;
                        output = outputs.Current.Output;
                    }
                }
            }

            return status.Found ? output : null;
        }
    }

    public void Upsert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var spanKey = SpanByte.FromPointer(k, key.Length);
            var spanValue = SpanByte.FromPointer(v, value.Length);
            _session.Upsert(ref spanKey, ref spanValue);
        }
    }

    public void Delete(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            var spanKey = SpanByte.FromPointer(k, key.Length);
            _session.Delete(ref spanKey);
        }
    }

    public void Dispose() => _session.Dispose();
}
