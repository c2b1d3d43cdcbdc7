using System.Text.Json;
using ChatServer.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ChatServer.Tests.Functional;

public sealed class OpenApiTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly TestServer _server = shared.Server;

    [Fact]
    public async Task The_openapi_document_lists_every_mapped_route_and_method()
    {
        var response = await _server.NewHttp().SendRawAsync(HttpMethod.Get, "/openapi/v1.json");
        Assert.Equal(200, response.StatusCode);
        using var doc = JsonDocument.Parse(response.Body);
        Assert.StartsWith("3.", doc.RootElement.GetProperty("openapi").GetString());
        var paths = doc.RootElement.GetProperty("paths");

        var mapped = _server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (Pattern: "/" + e.RoutePattern.RawText!.TrimStart('/'), Method: m)))
            .ToList();

        Assert.True(mapped.Count >= 23, $"only {mapped.Count} routes found");
        foreach (var (pattern, method) in mapped)
        {
            Assert.True(paths.TryGetProperty(pattern, out var item), $"{pattern} is not in the document");
            Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out _), $"{method} {pattern} is not in the document");
        }

        var documented = paths.EnumerateObject().SelectMany(p => p.Value.EnumerateObject().Select(m => (p.Name, m.Name.ToUpperInvariant())));
        Assert.All(documented, d => Assert.Contains(d, mapped));
    }

    [Theory]
    [InlineData("POST", "/v1/users")]
    [InlineData("POST", "/v1/sessions")]
    [InlineData("POST", "/v1/sessions/refresh")]
    [InlineData("DELETE", "/v1/sessions")]
    [InlineData("GET", "/v1/users/{id}")]
    [InlineData("GET", "/v1/groups")]
    [InlineData("POST", "/v1/groups")]
    [InlineData("GET", "/v1/groups/{id}")]
    [InlineData("PATCH", "/v1/groups/{id}")]
    [InlineData("POST", "/v1/sync")]
    [InlineData("POST", "/v1/groups/{id}/members")]
    [InlineData("PUT", "/v1/groups/{id}/members/{userId}/role")]
    [InlineData("DELETE", "/v1/groups/{id}/members/{userId}")]
    [InlineData("GET", "/v1/groups/{id}/members")]
    [InlineData("GET", "/v1/groups/{id}/messages")]
    [InlineData("POST", "/v1/groups/{id}/messages")]
    [InlineData("PATCH", "/v1/groups/{id}/messages/{seq}")]
    [InlineData("DELETE", "/v1/groups/{id}/messages/{seq}")]
    [InlineData("POST", "/v1/groups/{id}/read")]
    [InlineData("GET", "/healthz")]
    [InlineData("GET", "/readyz")]
    [InlineData("GET", "/metrics")]
    public async Task Every_route_of_the_protocol_is_in_the_document(string method, string path)
    {
        var response = await _server.NewHttp().SendRawAsync(HttpMethod.Get, "/openapi/v1.json");
        using var doc = JsonDocument.Parse(response.Body);

        Assert.True(doc.RootElement.GetProperty("paths").TryGetProperty(path, out var item), path);
        Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out _), $"{method} {path}");
    }

    [Fact]
    public async Task Health_readiness_and_metrics_answer()
    {
        var http = _server.NewHttp();
        var user = await _server.NewUserAsync();
        await using var socket = await user.ConnectAsync();

        Assert.Equal(200, (await http.SendRawAsync(HttpMethod.Get, "/healthz")).StatusCode);
        Assert.Equal(200, (await http.SendRawAsync(HttpMethod.Get, "/readyz")).StatusCode);
        var metrics = await http.SendRawAsync(HttpMethod.Get, "/metrics");
        Assert.Equal(200, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.ContentHeaders.ContentType?.ToString());
        var line = metrics.Body.Split('\n').FirstOrDefault(l => l.StartsWith("chat_connections", StringComparison.Ordinal));
        Assert.NotNull(line);
        Assert.True(double.Parse(line.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) >= 1, line);
    }

    [Fact]
    public async Task An_unknown_route_is_not_found_with_the_error_shape()
    {
        var response = await _server.NewHttp().SendRawAsync(HttpMethod.Get, "/v1/nothing-here");

        Assert.Equal(404, response.StatusCode);
        Assert.Equal("not_found", response.ReadError().Code);
    }
}
