namespace ChatServer.Gateway.WebSockets;

/// <summary>A parsed client frame header (RFC 6455 §5.2).</summary>
internal readonly struct FrameHeader
{
    public FrameHeader(bool fin, byte opcode, long payloadLength, uint maskKey, int headerLength)
    {
        Fin = fin;
        Opcode = opcode;
        PayloadLength = payloadLength;
        MaskKey = maskKey;
        HeaderLength = headerLength;
    }

    public bool Fin { get; }

    public byte Opcode { get; }

    public long PayloadLength { get; }

    /// <summary>The four masking-key bytes as read from the wire in machine byte order (see <see cref="WebSocketFrameParser.Unmask"/>).</summary>
    public uint MaskKey { get; }

    /// <summary>2 to 14 bytes.</summary>
    public int HeaderLength { get; }

    public bool IsControl => Opcode >= WebSocketFrames.OpClose;
}
