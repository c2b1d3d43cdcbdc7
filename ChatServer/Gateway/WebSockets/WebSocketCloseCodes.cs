namespace ChatServer.Gateway.WebSockets;

/// <summary>RFC 6455 §7.4 close codes used by the framing layer (PROTOCOL.md §6 lists the application's).</summary>
internal static class WebSocketCloseCodes
{
    public const ushort Normal = 1000;
    public const ushort GoingAway = 1001;
    public const ushort ProtocolError = 1002;
    public const ushort UnsupportedData = 1003;
    /// <summary>Reported locally when a close frame carried no code; never sent.</summary>
    public const ushort NoStatus = 1005;
    /// <summary>Reported locally when the transport ended without a close frame; never sent.</summary>
    public const ushort Abnormal = 1006;
    public const ushort InvalidPayload = 1007;
    public const ushort MessageTooBig = 1009;
    public const ushort InternalError = 1011;

    /// <summary>Codes a peer may put in a close frame (RFC 6455 §7.4.1 and the IANA registry; 3000-4999 for libraries and applications).</summary>
    public static bool IsValidReceived(ushort code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };
}
