using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ChatServer.Client;

/// <summary>
/// A JSON object request body written with <see cref="Utf8JsonWriter"/> (so optional keys are simply not
/// written). <see cref="ToContent"/> ends the object and releases the writer.
/// </summary>
internal sealed class JsonBody
{
    // Request bodies are never embedded in HTML, so only what JSON itself requires is escaped
    // (the default encoder would also escape '+', non-ASCII text and more).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public JsonBody()
    {
        Writer = new Utf8JsonWriter(_buffer, WriterOptions);
        Writer.WriteStartObject();
    }

    public Utf8JsonWriter Writer { get; }

    public HttpContent ToContent()
    {
        Writer.WriteEndObject();
        Writer.Dispose();
        var content = new ReadOnlyMemoryContent(_buffer.WrittenMemory);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
