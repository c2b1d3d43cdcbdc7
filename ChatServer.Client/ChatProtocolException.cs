namespace ChatServer.Client;

/// <summary>
/// The server broke the wire contract: a malformed or truncated frame, a missing record field, a wrong
/// type, an unexpected HTTP status or an error body that is not the protocol's error object.
/// </summary>
public sealed class ChatProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong.</param>
    public ChatProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The decoder's exception.</param>
    public ChatProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
