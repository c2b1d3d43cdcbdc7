using System.Globalization;

namespace ChatServer.Client;

/// <summary>The WebSocket upgrade failed (for example HTTP 403 for an origin that is not allowed).</summary>
public sealed class ChatHandshakeException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="httpStatus">The HTTP status of the refused upgrade, when one was received.</param>
    /// <param name="innerException">The transport error.</param>
    public ChatHandshakeException(int? httpStatus, Exception innerException)
        : base(
            httpStatus is { } status
                ? string.Create(CultureInfo.InvariantCulture, $"The WebSocket upgrade was refused with HTTP {status}.")
                : "The WebSocket upgrade failed: " + innerException?.Message,
            innerException)
    {
        HttpStatus = httpStatus;
    }

    /// <summary>The HTTP status of the refused upgrade, when one was received.</summary>
    public int? HttpStatus { get; }
}
