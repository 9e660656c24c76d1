using System.Collections.Concurrent;

namespace RaftMall.Client;

/// <summary>
/// The API key to use for a node address, for clients built from bare endpoints (probes, tools, tests): whoever loads
/// or creates a cluster's credentials registers its admin key for that cluster's addresses. Several clusters in one
/// process (a bench's scratch cluster next to the local one, parallel test clusters) each get their own key.
/// </summary>
public static class ClusterKeys
{
    private static readonly ConcurrentDictionary<string, string> ByAuthority = new(StringComparer.OrdinalIgnoreCase);

    public static void Register(ClusterFile cluster, string key)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        foreach (var node in cluster.Nodes) ByAuthority[node.Uri.GetLeftPart(UriPartial.Authority)] = key;
    }

    /// <summary>Registers the admin key of the cluster's credentials (configured or in its file) and returns it; null when there is none.</summary>
    public static string? RegisterAdmin(ClusterFile cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var admin = cluster.EffectiveCredentials()?.KeyFor(ClientRole.Admin);
        if (admin is not null) Register(cluster, admin);
        return admin;
    }

    public static string? For(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return ByAuthority.GetValueOrDefault(endpoint.GetLeftPart(UriPartial.Authority));
    }
}
