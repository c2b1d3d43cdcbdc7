using System.Buffers;
using System.Text;
using ChatServer.Gateway.WebSockets;

namespace ChatServer.Tests.WebSockets;

public sealed class HandshakeTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string Request(
        string method = "GET",
        string target = "/v1/ws",
        string? host = "chat.example",
        string? upgrade = "websocket",
        string? connection = "Upgrade",
        string? key = Key,
        string? version = "13",
        string? protocol = null,
        string? origin = null,
        string extra = "")
    {
        var sb = new StringBuilder();
        sb.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        if (host is not null) sb.Append("Host: ").Append(host).Append("\r\n");
        if (upgrade is not null) sb.Append("Upgrade: ").Append(upgrade).Append("\r\n");
        if (connection is not null) sb.Append("Connection: ").Append(connection).Append("\r\n");
        if (key is not null) sb.Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n");
        if (version is not null) sb.Append("Sec-WebSocket-Version: ").Append(version).Append("\r\n");
        if (protocol is not null) sb.Append("Sec-WebSocket-Protocol: ").Append(protocol).Append("\r\n");
        if (origin is not null) sb.Append("Origin: ").Append(origin).Append("\r\n");
        sb.Append(extra);
        sb.Append("\r\n");
        return sb.ToString();
    }

    private static async Task<(WebSocketConnection? Connection, string Response, TestConnectionContext Context)> HandshakeAsync(string request, WebSocketOptions? options = null)
    {
        var context = new TestConnectionContext();
        await context.SendAsync(request);
        WebSocketConnection? connection = await WebSocketConnection.AcceptAsync(context, options ?? new WebSocketOptions(), TimeProvider.System, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);
        string response = await context.ReadResponseHeadAsync();
        return (connection, response, context);
    }

    private static async Task AssertRejectedAsync(string request, int status, WebSocketOptions? options = null)
    {
        var (connection, response, context) = await HandshakeAsync(request, options);
        Assert.Null(connection);
        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Contains("Connection: close", response, StringComparison.Ordinal);
        Assert.True(await context.ServerOutputEndedAsync());
    }

    [Fact]
    public async Task Valid_upgrade_answers_101_with_the_RFC_6455_accept_value()
    {
        var (connection, response, _) = await HandshakeAsync(Request());
        Assert.NotNull(connection);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", response, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", response, StringComparison.Ordinal);
        Assert.Contains("Upgrade: websocket", response, StringComparison.Ordinal);
        Assert.Contains("Connection: Upgrade", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Sec-WebSocket-Protocol", response, StringComparison.Ordinal);
        Assert.Equal("/v1/ws", connection.Request.Path);
        Assert.False(connection.Request.OffersSubProtocol);
        await connection.DisposeAsync();
    }

    [Fact]
    public void Accept_value_of_the_RFC_example_key_is_computed_exactly()
    {
        Span<byte> accept = stackalloc byte[28];
        HandshakeParser.ComputeAccept(Key, accept);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Encoding.ASCII.GetString(accept));
    }

    [Theory]
    [InlineData("chat.v1")]
    [InlineData("other, chat.v1")]
    [InlineData("other,chat.v1 , more")]
    public async Task Offered_subprotocol_is_echoed(string offered)
    {
        var (connection, response, _) = await HandshakeAsync(Request(protocol: offered));
        Assert.NotNull(connection);
        Assert.Contains("\r\nSec-WebSocket-Protocol: chat.v1", response + "\r\n", StringComparison.Ordinal);
        Assert.True(connection.Request.OffersSubProtocol);
        await connection.DisposeAsync();
    }

    [Theory]
    [InlineData("CHAT.V1")]
    [InlineData("Chat.v1, other")]
    public async Task Subprotocol_names_compare_exactly_so_another_spelling_is_not_echoed(string offered)
    {
        // RFC 6455 §4.1: the client fails a handshake naming a subprotocol it did not offer, spelling included.
        var (connection, response, _) = await HandshakeAsync(Request(protocol: offered));
        Assert.NotNull(connection);
        Assert.DoesNotContain("Sec-WebSocket-Protocol", response, StringComparison.Ordinal);
        Assert.False(connection.Request.OffersSubProtocol);
        await connection.DisposeAsync();
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/anything?x=1")]
    public async Task Without_a_request_path_option_any_path_is_upgraded(string target)
    {
        var (connection, response, _) = await HandshakeAsync(Request(target: target), new WebSocketOptions { RequestPath = null });
        Assert.NotNull(connection);
        Assert.StartsWith("HTTP/1.1 101 ", response, StringComparison.Ordinal);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Other_subprotocols_only_are_served_without_echo()
    {
        var (connection, response, _) = await HandshakeAsync(Request(protocol: "chat.v2"));
        Assert.NotNull(connection);
        Assert.DoesNotContain("Sec-WebSocket-Protocol", response, StringComparison.Ordinal);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Header_names_and_upgrade_tokens_are_case_insensitive_and_connection_may_be_a_list()
    {
        string request = "GET /v1/ws?token=abc&x=1 HTTP/1.1\r\nhost: h\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\n" +
            "sec-websocket-key: " + Key + "\r\nSEC-WEBSOCKET-VERSION: 13\r\nx-forwarded-for: 10.0.0.1\r\norigin: https://app.example\r\n\r\n";
        var (connection, response, _) = await HandshakeAsync(request);
        Assert.NotNull(connection);
        Assert.StartsWith("HTTP/1.1 101 ", response, StringComparison.Ordinal);
        Assert.Equal("/v1/ws", connection.Request.Path);
        Assert.Equal("?token=abc&x=1", connection.Request.Query);
        Assert.Equal("10.0.0.1", connection.Request.ForwardedFor);
        Assert.Equal("https://app.example", connection.Request.Origin);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Bytes_after_the_request_head_are_left_for_the_frame_reader()
    {
        var context = new TestConnectionContext();
        await context.SendAsync(Encoding.ASCII.GetBytes(Request()).Concat(ClientFrames.Binary([1, 2, 3])).ToArray());
        WebSocketConnection? connection = await WebSocketConnection.AcceptAsync(context, new WebSocketOptions(), TimeProvider.System, CancellationToken.None);
        Assert.NotNull(connection);
        WebSocketMessage message = await connection.ReceiveAsync(CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Binary, message.Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Payload.ToArray());
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Wrong_path_is_404() => await AssertRejectedAsync(Request(target: "/v2/ws"), 404);

    [Fact]
    public async Task Non_GET_is_405_with_Allow()
    {
        var (connection, response, _) = await HandshakeAsync(Request(method: "POST"));
        Assert.Null(connection);
        Assert.StartsWith("HTTP/1.1 405 ", response, StringComparison.Ordinal);
        Assert.Contains("Allow: GET", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_GET_without_upgrade_is_426_with_the_supported_version()
    {
        var (connection, response, _) = await HandshakeAsync(Request(upgrade: null, connection: "keep-alive", key: null, version: null));
        Assert.Null(connection);
        Assert.StartsWith("HTTP/1.1 426 ", response, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Version: 13", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_is_not_served_on_the_gateway_port() => await AssertRejectedAsync(Request(target: "/healthz", upgrade: null, connection: null, key: null, version: null), 404);

    [Theory]
    [InlineData(null)]
    [InlineData("8")]
    [InlineData("14")]
    [InlineData("thirteen")]
    public async Task Missing_or_unsupported_version_is_426(string? version)
    {
        var (connection, response, _) = await HandshakeAsync(Request(version: version));
        Assert.Null(connection);
        Assert.StartsWith("HTTP/1.1 426 ", response, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Version: 13", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connection_without_upgrade_token_is_426() => await AssertRejectedAsync(Request(connection: "keep-alive"), 426);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64!!")]
    [InlineData("dGhlIHNhbXBsZSBub25j")]           // 15 bytes
    [InlineData("dGhlIHNhbXBsZSBub25jZQo=")]       // 17 bytes is 24 chars with one pad: still not 16
    [InlineData("dGhlIHNhbXBsZSBub25jZWVl")]       // 18 bytes
    public async Task Missing_or_bad_key_is_400(string? key) => await AssertRejectedAsync(Request(key: key), 400);

    [Fact]
    public async Task Missing_host_is_400() => await AssertRejectedAsync(Request(host: null), 400);

    [Theory]
    [InlineData("GET /v1/ws HTTP/1.0\r\nHost: h\r\n\r\n")]
    [InlineData("GET /v1/ws\r\nHost: h\r\n\r\n")]
    [InlineData("GET  /v1/ws HTTP/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost h\r\n\r\n")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost : h\r\n\r\n")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n")]
    [InlineData("GET /v1/ws HTTP/1.1\nHost: h\r\n\r\n")]
    [InlineData("GET v1/ws HTTP/1.1\r\nHost: h\r\n\r\n")]
    public async Task Malformed_request_is_400(string request) => await AssertRejectedAsync(request, 400);

    [Theory]
    [InlineData("GET /v1/ws HTTP/1.1\nHost: h\n")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\nUpgrade: websocket\r\n")]
    public async Task A_head_with_bare_line_feeds_is_400_without_waiting_for_its_end(string partial) => await AssertRejectedAsync(partial, 400);

    [Fact]
    public async Task Duplicate_key_is_400() => await AssertRejectedAsync(Request(extra: "Sec-WebSocket-Key: " + Key + "\r\n"), 400);

    [Fact]
    public async Task Origin_not_allowed_is_403()
    {
        var options = new WebSocketOptions { AllowedOrigins = ["https://app.example"] };
        await AssertRejectedAsync(Request(origin: "https://evil.example"), 403, options);
    }

    [Fact]
    public async Task Allowed_origin_and_missing_origin_are_served()
    {
        var options = new WebSocketOptions { AllowedOrigins = ["https://app.example"] };
        var (allowed, _, _) = await HandshakeAsync(Request(origin: "https://APP.example"), options);
        Assert.NotNull(allowed);
        var (noOrigin, _, _) = await HandshakeAsync(Request(), options);
        Assert.NotNull(noOrigin);
        await allowed.DisposeAsync();
        await noOrigin.DisposeAsync();
    }

    [Fact]
    public async Task Oversized_head_is_431_without_waiting_for_its_end()
    {
        var options = new WebSocketOptions { MaxHandshakeBytes = 1024 };
        string request = Request(extra: "X-Padding: " + new string('a', 2000) + "\r\n");
        // Only part of the head is sent: the cap must trigger before the blank line arrives.
        var context = new TestConnectionContext();
        await context.SendAsync(request[..1500]);
        WebSocketConnection? connection = await WebSocketConnection.AcceptAsync(context, options, TimeProvider.System, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);
        Assert.Null(connection);
        Assert.StartsWith("HTTP/1.1 431 ", await context.ReadResponseHeadAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Complete_head_over_the_byte_cap_is_431()
    {
        var options = new WebSocketOptions { MaxHandshakeBytes = 256 };
        await AssertRejectedAsync(Request(extra: "X-Padding: " + new string('a', 300) + "\r\n"), 431, options);
    }

    [Fact]
    public async Task Too_many_headers_is_431()
    {
        var options = new WebSocketOptions { MaxHandshakeHeaders = 8 };
        string extra = string.Concat(Enumerable.Range(0, 10).Select(i => $"X-H{i}: v\r\n"));
        await AssertRejectedAsync(Request(extra: extra), 431, options);
    }

    [Fact]
    public async Task Request_split_at_every_byte_is_accepted()
    {
        byte[] request = Encoding.ASCII.GetBytes(Request(protocol: "chat.v1"));
        for (int split = 1; split < request.Length; split++)
        {
            var context = new TestConnectionContext();
            await context.SendAsync(request[..split]);
            ValueTask<WebSocketConnection?> accepting = WebSocketConnection.AcceptAsync(context, new WebSocketOptions(), TimeProvider.System, CancellationToken.None);
            await context.SendAsync(request[split..]);
            WebSocketConnection? connection = await accepting.AsTask().WaitAsync(TestTimeouts.Default);
            Assert.NotNull(connection);
            string response = await context.ReadResponseHeadAsync();
            Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", response, StringComparison.Ordinal);
            Assert.Contains("Sec-WebSocket-Protocol: chat.v1", response, StringComparison.Ordinal);
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public void Parser_on_every_prefix_needs_more_data_and_consumes_nothing()
    {
        byte[] request = Encoding.ASCII.GetBytes(Request());
        var options = new WebSocketOptions();
        for (int length = 0; length < request.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(request, 0, length);
            Assert.Equal(OperationStatus.NeedMoreData, HandshakeParser.TryParse(ref buffer, options, out _));
            Assert.Equal(length, buffer.Length);
        }

        var whole = SequenceSegments.Split(request, 7);
        Assert.Equal(OperationStatus.Done, HandshakeParser.TryParse(ref whole, options, out HttpUpgradeRequest? parsed));
        Assert.True(whole.IsEmpty);
        Assert.Equal(Key, parsed!.Key);
    }

    [Fact]
    public async Task Peer_ending_inside_the_request_fails_the_handshake()
    {
        var context = new TestConnectionContext();
        await context.SendAsync(Request()[..20]);
        await context.ClientOutput.CompleteAsync();
        WebSocketConnection? connection = await WebSocketConnection.AcceptAsync(context, new WebSocketOptions(), TimeProvider.System, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Default);
        Assert.Null(connection);
        Assert.StartsWith("HTTP/1.1 400 ", await context.ReadResponseHeadAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slow_request_times_out_with_408()
    {
        var time = new ManualTimeProvider();
        var context = new TestConnectionContext();
        await context.SendAsync(Request()[..20]);
        ValueTask<WebSocketConnection?> accepting = WebSocketConnection.AcceptAsync(context, new WebSocketOptions(), time, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(accepting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await accepting.AsTask().WaitAsync(TestTimeouts.Default));
        Assert.StartsWith("HTTP/1.1 408 ", await context.ReadResponseHeadAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_accept_returns_null_and_completes_the_transport()
    {
        using var cts = new CancellationTokenSource();
        var context = new TestConnectionContext();
        ValueTask<WebSocketConnection?> accepting = WebSocketConnection.AcceptAsync(context, new WebSocketOptions(), TimeProvider.System, cts.Token);
        await cts.CancelAsync();
        Assert.Null(await accepting.AsTask().WaitAsync(TestTimeouts.Default));
        Assert.True(await context.ServerOutputEndedAsync());
    }
}
