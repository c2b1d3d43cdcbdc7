using System.Text;
using System.Text.Json;

namespace ChatServer.Http;

/// <summary>The OpenAPI 3.0 document of the HTTP API, generated from <see cref="ApiEndpoints.Routes"/> so it lists exactly what is mapped.</summary>
internal static class OpenApiDocument
{
    public static readonly string Json = Build();

    private static string Build()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("openapi", "3.0.3");
            w.WriteStartObject("info");
            w.WriteString("title", "Chat server HTTP API");
            w.WriteString("version", "1");
            w.WriteEndObject();
            w.WriteStartObject("components");
            w.WriteStartObject("securitySchemes");
            w.WriteStartObject("bearer");
            w.WriteString("type", "http");
            w.WriteString("scheme", "bearer");
            w.WriteString("bearerFormat", "JWT");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("paths");
            var byPath = new SortedDictionary<string, List<ApiRoute>>(StringComparer.Ordinal);
            foreach (var r in ApiEndpoints.Routes)
            {
                if (!byPath.TryGetValue(r.Pattern, out var list)) byPath[r.Pattern] = list = new List<ApiRoute>();
                list.Add(r);
            }

            foreach (var (path, routes) in byPath)
            {
                w.WriteStartObject(path);
                foreach (var r in routes)
                {
                    w.WriteStartObject(r.Method.ToLowerInvariant());
                    w.WriteString("summary", r.Summary);
                    w.WriteString("operationId", OperationId(r));
                    var parameters = PathParameters(path);
                    if (parameters.Count > 0)
                    {
                        w.WriteStartArray("parameters");
                        foreach (var p in parameters)
                        {
                            w.WriteStartObject();
                            w.WriteString("name", p);
                            w.WriteString("in", "path");
                            w.WriteBoolean("required", true);
                            w.WriteStartObject("schema");
                            w.WriteString("type", "string");
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }

                        w.WriteEndArray();
                    }

                    if (r.Authenticated)
                    {
                        w.WriteStartArray("security");
                        w.WriteStartObject();
                        w.WriteStartArray("bearer");
                        w.WriteEndArray();
                        w.WriteEndObject();
                        w.WriteEndArray();
                    }

                    w.WriteStartObject("responses");
                    w.WriteStartObject("default");
                    w.WriteString("description", "See docs/protocol.md §8");
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string OperationId(ApiRoute r)
    {
        var sb = new StringBuilder(r.Method.ToLowerInvariant());
        foreach (var part in r.Pattern.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var clean = part.Trim('{', '}').Replace(".", string.Empty, StringComparison.Ordinal);
            if (clean.Length > 0) sb.Append(char.ToUpperInvariant(clean[0])).Append(clean.AsSpan(1));
        }

        return sb.ToString();
    }

    private static List<string> PathParameters(string path)
    {
        var list = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.StartsWith('{') && part.EndsWith('}')) list.Add(part[1..^1]);
        }

        return list;
    }
}
