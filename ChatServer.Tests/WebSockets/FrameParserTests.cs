using System.Buffers;
using System.Buffers.Binary;
using ChatServer.Gateway.WebSockets;

namespace ChatServer.Tests.WebSockets;

public sealed class FrameParserTests
{
    private static OperationStatus Parse(byte[] bytes, out FrameHeader header, out long remaining)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        OperationStatus status = WebSocketFrameParser.TryReadFrameHeader(ref buffer, out header);
        remaining = buffer.Length;
        return status;
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    [InlineData(200_000, 10)]
    public void Seven_sixteen_and_sixty_four_bit_lengths_parse(int length, int lengthFieldEnd)
    {
        byte[] frame = ClientFrames.Binary(new byte[length]);
        Assert.Equal(OperationStatus.Done, Parse(frame, out FrameHeader header, out long remaining));
        Assert.Equal(length, header.PayloadLength);
        Assert.Equal(lengthFieldEnd + 4, header.HeaderLength);
        Assert.Equal(length, remaining);
        Assert.True(header.Fin);
        Assert.Equal(WebSocketFrames.OpBinary, header.Opcode);
    }

    [Fact]
    public void Non_minimal_length_encodings_are_accepted()
    {
        byte[] frame = ClientFrames.Build(WebSocketFrames.OpBinary, new byte[5], forceLengthBytes: 8);
        Assert.Equal(OperationStatus.Done, Parse(frame, out FrameHeader header, out _));
        Assert.Equal(5, header.PayloadLength);
        Assert.Equal(14, header.HeaderLength);
    }

    [Fact]
    public void Masked_frame_split_at_every_byte_parses_the_same()
    {
        byte[] frame = ClientFrames.Build(WebSocketFrames.OpText, new byte[300]);
        for (int length = 0; length < 8; length++)
        {
            var prefix = new ReadOnlySequence<byte>(frame, 0, length);
            Assert.Equal(OperationStatus.NeedMoreData, WebSocketFrameParser.TryReadFrameHeader(ref prefix, out _));
            Assert.Equal(length, prefix.Length);
        }

        for (int cut = 1; cut < frame.Length; cut++)
        {
            ReadOnlySequence<byte> buffer = SequenceSegments.SplitAt(frame, cut);
            Assert.Equal(OperationStatus.Done, WebSocketFrameParser.TryReadFrameHeader(ref buffer, out FrameHeader header));
            Assert.Equal(300, header.PayloadLength);
            Assert.Equal(300, buffer.Length);
            Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(ClientFrames.MaskKey), BitConverter.IsLittleEndian ? header.MaskKey : BinaryPrimitives.ReverseEndianness(header.MaskKey));
        }

        ReadOnlySequence<byte> oneByteSegments = SequenceSegments.Split(frame, 1);
        Assert.Equal(OperationStatus.Done, WebSocketFrameParser.TryReadFrameHeader(ref oneByteSegments, out FrameHeader h));
        Assert.Equal(300, h.PayloadLength);
    }

    [Fact]
    public void Sixty_four_bit_length_with_the_high_bit_set_is_invalid()
    {
        byte[] frame = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        Assert.Equal(OperationStatus.InvalidData, Parse(frame, out _, out _));
    }

    [Fact]
    public void Huge_but_legal_length_is_reported_before_any_payload_arrives()
    {
        byte[] frame = [0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4];
        Assert.Equal(OperationStatus.Done, Parse(frame, out FrameHeader header, out long remaining));
        Assert.Equal(long.MaxValue, header.PayloadLength);
        Assert.Equal(0, remaining);
    }

    [Theory]
    [InlineData(new byte[] { 0x82, 0x00 })]                 // unmasked
    [InlineData(new byte[] { 0xC2, 0x80 })]                 // RSV1
    [InlineData(new byte[] { 0xA2, 0x80 })]                 // RSV2
    [InlineData(new byte[] { 0x92, 0x80 })]                 // RSV3
    [InlineData(new byte[] { 0x83, 0x80 })]                 // reserved data opcode
    [InlineData(new byte[] { 0x87, 0x80 })]
    [InlineData(new byte[] { 0x8B, 0x80 })]                 // reserved control opcode
    [InlineData(new byte[] { 0x8F, 0x80 })]
    [InlineData(new byte[] { 0x09, 0x80 })]                 // fragmented ping
    [InlineData(new byte[] { 0x08, 0x80 })]                 // fragmented close
    [InlineData(new byte[] { 0x89, 0xFE })]                 // ping with 16-bit length
    [InlineData(new byte[] { 0x8A, 0xFF })]                 // pong with 64-bit length
    public void Violations_are_detected_from_the_first_two_bytes(byte[] frame)
    {
        Assert.Equal(OperationStatus.InvalidData, Parse(frame, out _, out long remaining));
        Assert.Equal(frame.Length, remaining);
    }

    [Fact]
    public void Control_frame_of_125_bytes_is_allowed()
    {
        Assert.Equal(OperationStatus.Done, Parse(ClientFrames.Build(WebSocketFrames.OpPing, new byte[125]), out FrameHeader header, out _));
        Assert.True(header.IsControl);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(100)]
    [InlineData(1000)]
    public void Unmask_matches_the_byte_by_byte_definition_at_every_key_offset(int length)
    {
        var random = new Random(length);
        byte[] key = [0x12, 0x34, 0x56, 0x78];
        uint maskKey = BitConverter.ToUInt32(key);
        for (int offset = 0; offset < 4; offset++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            byte[] expected = new byte[length];
            for (int i = 0; i < length; i++)
            {
                expected[i] = (byte)(data[i] ^ key[(offset + i) % 4]);
            }

            int next = WebSocketFrameParser.Unmask(data, maskKey, offset);
            Assert.Equal(expected, data);
            Assert.Equal((offset + length) % 4, next);
        }
    }

    [Fact]
    public void Unmask_in_chunks_equals_unmask_in_one_pass()
    {
        byte[] original = new byte[257];
        new Random(1).NextBytes(original);
        uint maskKey = 0xA1B2C3D4;
        byte[] whole = (byte[])original.Clone();
        WebSocketFrameParser.Unmask(whole, maskKey, 0);
        byte[] chunked = (byte[])original.Clone();
        int offset = 0;
        int position = 0;
        foreach (int size in new[] { 1, 2, 3, 5, 17, 64, 100, 65 })
        {
            offset = WebSocketFrameParser.Unmask(chunked.AsSpan(position, size), maskKey, offset);
            position += size;
        }

        Assert.Equal(whole, chunked);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    public void Server_headers_use_the_shortest_length_form(int length, int headerLength)
    {
        Assert.Equal(headerLength, WebSocketFrames.HeaderLength(length));
        byte[] frame = WebSocketFrames.BinaryFrame(new byte[length]);
        Assert.Equal(headerLength + length, frame.Length);
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(ServerFrame.TryParse(ref buffer, out ServerFrame? parsed));
        Assert.Equal(WebSocketFrames.OpBinary, parsed!.Opcode);
        Assert.True(parsed.Fin);
        Assert.False(parsed.Masked);
        Assert.Equal(length, parsed.Payload.Length);
    }

    [Fact]
    public void Close_frame_carries_code_and_reason_cut_to_125_bytes_at_a_character_boundary()
    {
        byte[] frame = WebSocketFrames.CloseFrame(4002, new string('é', 100));
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(ServerFrame.TryParse(ref buffer, out ServerFrame? parsed));
        Assert.Equal(WebSocketFrames.OpClose, parsed!.Opcode);
        Assert.Equal(4002, parsed.CloseCode);
        Assert.True(parsed.Payload.Length <= 125);
        Assert.Equal(122, parsed.Payload.Length - 2);
        Assert.True(System.Text.Unicode.Utf8.IsValid(parsed.Payload.AsSpan(2)));

        byte[] plain = WebSocketFrames.CloseFrame(1000, null);
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xE8 }, plain);
    }
}
