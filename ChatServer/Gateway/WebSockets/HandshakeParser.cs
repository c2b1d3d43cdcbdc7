using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ChatServer.Gateway.WebSockets;

/// <summary>Parses and validates the HTTP/1.1 upgrade request and encodes the responses (RFC 6455 §4.2).</summary>
internal static class HandshakeParser
{
    private static ReadOnlySpan<byte> EndOfHeaders => "\r\n\r\n"u8;

    private static ReadOnlySpan<byte> AcceptGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    /// <summary>
    /// Parses a request head. Done: <paramref name="buffer"/> is advanced past the blank line. NeedMoreData: nothing
    /// consumed (the size cap is checked first, so at most <c>MaxHandshakeBytes</c> are ever buffered). InvalidData:
    /// <see cref="HttpUpgradeRequest.ErrorStatus"/> says why (400 malformed, 431 too large or too many headers).
    /// </summary>
    public static OperationStatus TryParse(ref ReadOnlySequence<byte> buffer, WebSocketOptions options, out HttpUpgradeRequest? request)
    {
        request = null;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, EndOfHeaders, advancePastDelimiter: true))
        {
            if (buffer.Length >= options.MaxHandshakeBytes + EndOfHeaders.Length)
            {
                request = new HttpUpgradeRequest { ErrorStatus = 431 };
                return OperationStatus.InvalidData;
            }

            if (HasBareLineFeed(buffer))
            {
                // Lines end with CRLF here; a head written with bare LFs would otherwise wait for the timeout.
                request = new HttpUpgradeRequest { ErrorStatus = 400 };
                return OperationStatus.InvalidData;
            }

            return OperationStatus.NeedMoreData;
        }

        if (head.Length > options.MaxHandshakeBytes)
        {
            request = new HttpUpgradeRequest { ErrorStatus = 431 };
            return OperationStatus.InvalidData;
        }

        int length = (int)head.Length;
        byte[]? rented = null;
        Span<byte> bytes = length <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            head.CopyTo(bytes);
            request = Parse(bytes[..length], options.MaxHandshakeHeaders);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        if (request.ErrorStatus != 0)
        {
            return OperationStatus.InvalidData;
        }

        buffer = buffer.Slice(reader.Position);
        return OperationStatus.Done;
    }

    private static bool HasBareLineFeed(ReadOnlySequence<byte> buffer)
    {
        byte previous = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            ReadOnlySpan<byte> span = segment.Span;
            int offset = 0;
            while (true)
            {
                int found = span[offset..].IndexOf((byte)'\n');
                if (found < 0)
                {
                    break;
                }

                int at = offset + found;
                if ((at == 0 ? previous : span[at - 1]) != (byte)'\r')
                {
                    return true;
                }

                offset = at + 1;
            }

            if (!span.IsEmpty)
            {
                previous = span[^1];
            }
        }

        return false;
    }

    private static HttpUpgradeRequest Parse(ReadOnlySpan<byte> head, int maxHeaders)
    {
        var request = new HttpUpgradeRequest();
        int lineEnd = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> requestLine = lineEnd < 0 ? head : head[..lineEnd];
        if (!ParseRequestLine(requestLine, request))
        {
            request.ErrorStatus = 400;
            return request;
        }

        ReadOnlySpan<byte> rest = lineEnd < 0 ? default : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = lineEnd < 0 ? rest : rest[..lineEnd];
            rest = lineEnd < 0 ? default : rest[(lineEnd + 2)..];
            if (++request.HeaderCount > maxHeaders)
            {
                request.ErrorStatus = 431;
                return request;
            }

            if (!ParseHeader(line, request))
            {
                request.ErrorStatus = 400;
                return request;
            }
        }

        return request;
    }

    private static bool ParseRequestLine(ReadOnlySpan<byte> line, HttpUpgradeRequest request)
    {
        int space = line.IndexOf((byte)' ');
        if (space <= 0 || !IsToken(line[..space]))
        {
            return false;
        }

        request.Method = Encoding.ASCII.GetString(line[..space]);
        line = line[(space + 1)..];
        space = line.IndexOf((byte)' ');
        if (space <= 0)
        {
            return false;
        }

        ReadOnlySpan<byte> target = line[..space];
        if (target[0] != (byte)'/' || target.IndexOfAnyInRange((byte)0, (byte)0x20) >= 0 || target.IndexOfAnyInRange((byte)0x7F, (byte)0xFF) >= 0)
        {
            return false;
        }

        request.Target = Encoding.ASCII.GetString(target);
        return line[(space + 1)..].SequenceEqual("HTTP/1.1"u8);
    }

    private static bool ParseHeader(ReadOnlySpan<byte> line, HttpUpgradeRequest request)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0 || !IsToken(line[..colon]))
        {
            // Covers obsolete line folding (leading whitespace), whitespace before the colon and bare LF.
            return false;
        }

        ReadOnlySpan<byte> name = line[..colon];
        ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
        if (value.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0)
        {
            return false;
        }

        if (Ascii.EqualsIgnoreCase(name, "Host"u8))
        {
            if (request.Host is not null)
            {
                return false;
            }

            request.Host = Decode(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Upgrade"u8))
        {
            request.Upgrade = Append(request.Upgrade, value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            request.Connection = Append(request.Connection, value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8))
        {
            if (request.Key is not null)
            {
                return false;
            }

            request.Key = Decode(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Version"u8))
        {
            if (request.Version is not null)
            {
                return false;
            }

            request.Version = Decode(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Protocol"u8))
        {
            request.Protocols = Append(request.Protocols, value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Origin"u8))
        {
            if (request.Origin is not null)
            {
                return false;
            }

            request.Origin = Decode(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "X-Forwarded-For"u8))
        {
            request.ForwardedFor = Append(request.ForwardedFor, value);
        }

        return true;
    }

    private static string Append(string? current, ReadOnlySpan<byte> value)
        => current is null ? Decode(value) : current + ", " + Decode(value);

    // Header values are Latin-1 on the wire (RFC 9110 §5.5).
    private static string Decode(ReadOnlySpan<byte> value) => Encoding.Latin1.GetString(value);

    private static bool IsToken(ReadOnlySpan<byte> token)
    {
        foreach (byte b in token)
        {
            bool ok = b is > 0x20 and < 0x7F
                && b is not ((byte)'(' or (byte)')' or (byte)',' or (byte)'/' or (byte)':' or (byte)';' or (byte)'<' or (byte)'='
                    or (byte)'>' or (byte)'?' or (byte)'@' or (byte)'[' or (byte)'\\' or (byte)']' or (byte)'{' or (byte)'}' or (byte)'"');
            if (!ok)
            {
                return false;
            }
        }

        return !token.IsEmpty;
    }

    /// <summary>
    /// Checks a parsed request against RFC 6455 §4.2.1 and the options; returns 101 and the accepted request, or the
    /// status to answer: 404 wrong path, 405 not GET, 426 not an upgrade or version other than 13, 400 bad or missing
    /// key or Host, 403 origin not allowed.
    /// </summary>
    public static int Validate(HttpUpgradeRequest request, WebSocketOptions options, out HandshakeRequest accepted)
    {
        accepted = default;
        string target = request.Target;
        int queryStart = target.IndexOf('?', StringComparison.Ordinal);
        string path = queryStart < 0 ? target : target[..queryStart];
        if (options.RequestPath is not null && !string.Equals(path, options.RequestPath, StringComparison.Ordinal))
        {
            return 404;
        }

        if (!string.Equals(request.Method, "GET", StringComparison.Ordinal))
        {
            return 405;
        }

        if (!ContainsToken(request.Upgrade, "websocket") || !ContainsToken(request.Connection, "upgrade"))
        {
            return 426;
        }

        if (!string.Equals(request.Version, "13", StringComparison.Ordinal))
        {
            return 426;
        }

        if (request.Host is null || request.Key is null || !IsValidKey(request.Key))
        {
            return 400;
        }

        if (request.Origin is not null && options.AllowedOrigins is { } allowed && !IsAllowed(request.Origin, allowed))
        {
            return 403;
        }

        accepted = new HandshakeRequest(path, request.Origin, ContainsToken(request.Protocols, options.SubProtocol, StringComparison.Ordinal), request.ForwardedFor)
        {
            Query = queryStart < 0 ? "" : target[queryStart..],
        };
        return 101;
    }

    private static bool IsAllowed(string origin, IReadOnlyList<string> allowed)
    {
        for (int i = 0; i < allowed.Count; i++)
        {
            if (string.Equals(origin, allowed[i], StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when the comma-separated list holds <paramref name="token"/>: ASCII case-insensitive by default (header
    /// tokens such as Upgrade and Connection); subprotocol names compare exactly (RFC 6455 §4.1: a client fails a
    /// handshake that names a subprotocol it did not offer, so the echo must be its own spelling).
    /// </summary>
    internal static bool ContainsToken(string? list, string token, StringComparison comparison = StringComparison.OrdinalIgnoreCase)
    {
        if (list is null)
        {
            return false;
        }

        ReadOnlySpan<char> rest = list;
        while (true)
        {
            int comma = rest.IndexOf(',');
            ReadOnlySpan<char> item = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
            if (item.Equals(token, comparison))
            {
                return true;
            }

            if (comma < 0)
            {
                return false;
            }

            rest = rest[(comma + 1)..];
        }
    }

    /// <summary>The key must be base64 of 16 bytes (RFC 6455 §4.1: 24 characters).</summary>
    internal static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out int written) && written == 16;
    }

    /// <summary>Writes base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2) into 28 bytes.</summary>
    internal static void ComputeAccept(string key, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[24 + 36];
        int keyLength = Encoding.ASCII.GetBytes(key, input);
        AcceptGuid.CopyTo(input[keyLength..]);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input[..(keyLength + AcceptGuid.Length)], hash);
        Base64.EncodeToUtf8(hash, destination, out _, out _);
    }

    /// <summary>The 101 response. <paramref name="subProtocol"/> is echoed when not null.</summary>
    public static void WriteSwitchingProtocols(IBufferWriter<byte> output, string key, string? subProtocol)
    {
        Span<byte> accept = stackalloc byte[28];
        ComputeAccept(key, accept);
        output.Write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "u8);
        output.Write(accept);
        if (subProtocol is not null)
        {
            output.Write("\r\nSec-WebSocket-Protocol: "u8);
            output.Write(Encoding.ASCII.GetBytes(subProtocol));
        }

        output.Write("\r\n\r\n"u8);
    }

    /// <summary>An error response with an empty body; the connection is closed after it.</summary>
    public static void WriteError(IBufferWriter<byte> output, int status)
    {
        output.Write(status switch
        {
            400 => "HTTP/1.1 400 Bad Request\r\n"u8,
            403 => "HTTP/1.1 403 Forbidden\r\n"u8,
            404 => "HTTP/1.1 404 Not Found\r\n"u8,
            405 => "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"u8,
            408 => "HTTP/1.1 408 Request Timeout\r\n"u8,
            426 => "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"u8,
            431 => "HTTP/1.1 431 Request Header Fields Too Large\r\n"u8,
            _ => "HTTP/1.1 500 Internal Server Error\r\n"u8,
        });
        output.Write("Connection: close\r\nContent-Length: 0\r\n\r\n"u8);
    }
}
