using Microsoft.AspNetCore.Cors.Infrastructure;

namespace RaftMall.Node.Dashboard;

/// <summary>
/// CORS for the dashboard: a page loaded from one member keeps reading from the others when that member dies. Only
/// the cluster's own members are allowed origins, and only for GET (the reads the page makes): the API's writes stay
/// same-origin. The demo controls (which exist only with the demo switch) also accept POST from those origins.
/// </summary>
public static class CrossOrigin
{
    public const string DemoPolicy = "demo-controls";

    public static void Configure(CorsOptions options, NodeSettings settings)
    {
        var origins = MemberOrigins(settings.Cluster.Nodes);
        options.AddDefaultPolicy(p => p.WithOrigins(origins).WithMethods("GET").WithHeaders("Authorization"));
        options.AddPolicy(DemoPolicy, p => p.WithOrigins(origins).WithMethods("GET", "POST").WithHeaders("Authorization", "Content-Type"));
    }

    /// <summary>Each member's origin; a loopback member also under its other loopback names (127.0.0.1, localhost, [::1]).</summary>
    public static string[] MemberOrigins(IEnumerable<ClusterNode> nodes)
    {
        var origins = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var uri in nodes.Select(n => n.Uri))
        {
            origins.Add(uri.GetLeftPart(UriPartial.Authority));
            if (uri.IsLoopback)
            {
                foreach (var host in new[] { "127.0.0.1", "localhost", "[::1]" }) origins.Add($"{uri.Scheme}://{host}:{uri.Port}");
            }
        }
        return [.. origins];
    }
}
