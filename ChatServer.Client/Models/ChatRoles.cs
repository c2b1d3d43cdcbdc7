namespace ChatServer.Client;

/// <summary>The member roles of the protocol.</summary>
public static class ChatRoles
{
    /// <summary>The group's single owner.</summary>
    public const string Owner = "owner";

    /// <summary>May add and remove plain members and update the group.</summary>
    public const string Admin = "admin";

    /// <summary>A plain member.</summary>
    public const string Member = "member";
}
