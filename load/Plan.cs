using System.Text.Json;

namespace ChatLoad;

/// <summary>One connection of a run: who it is, which groups it is in, which group it sends to.</summary>
internal sealed record ClientPlan(Guid UserId, string Token, int[] Groups, int SendGroup);

/// <summary>One group: its id and how many of its members are online in the run.</summary>
internal sealed record GroupPlan(Guid Id, int Online);

/// <summary>Everything the run phase needs, produced by setup, cached in the data directory, shared with workers.</summary>
internal sealed record Plan(string Key, ClientPlan[] Clients, GroupPlan[] Groups)
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };

    public static Plan? TryLoad(string path, string key)
    {
        if (!File.Exists(path)) return null;
        var plan = JsonSerializer.Deserialize<Plan>(File.ReadAllText(path), s_json);
        return plan?.Key == key ? plan : null;
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, s_json));
}
