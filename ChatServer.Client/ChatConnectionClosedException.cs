using System.Globalization;

namespace ChatServer.Client;

/// <summary>
/// A WebSocket request could not be sent or answered because the connection closed. The close the server
/// sent, if any, is in <see cref="CloseStatus"/> and <see cref="CloseDescription"/>.
/// </summary>
public sealed class ChatConnectionClosedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="closeStatus">The close code received, or null when the connection ended without one.</param>
    /// <param name="closeDescription">The close reason received.</param>
    /// <param name="innerException">The transport error, if any.</param>
    public ChatConnectionClosedException(int? closeStatus, string? closeDescription, Exception? innerException = null)
        : base(FormatMessage(closeStatus, closeDescription), innerException)
    {
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
    }

    /// <summary>The close code received, or null when the connection ended without one.</summary>
    public int? CloseStatus { get; }

    /// <summary>The close reason received.</summary>
    public string? CloseDescription { get; }

    private static string FormatMessage(int? closeStatus, string? closeDescription) => closeStatus is { } status
        ? string.Create(CultureInfo.InvariantCulture, $"The connection was closed ({status} {closeDescription}).")
        : "The connection was closed without a close frame.";
}
