using Microsoft.AspNetCore.Cors.Infrastructure;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.Dashboard;

/// <summary>
/// CORS for the dashboard: a page loaded from one member keeps reading from the others when that member dies. Only
/// the cluster's own members are allowed origins, and only for GET (the reads the page makes): the API's writes stay
/// same-origin. The demo controls (which exist only with the demo switch) also accept POST from those origins. The
/// members are the active configuration (<see cref="IConsensus.Members"/>), read per request, so a member added at run
/// time is allowed at once and a removed one no longer is.
/// </summary>
public sealed class CrossOrigin(IConsensus consensus, NodeSettings settings) : ICorsPolicyProvider
{
    public const string DemoPolicy = "demo-controls";

    private Policies? _cached;

    public Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        var origins = Origins(consensus, settings);
        var key = string.Join(' ', origins);
        if (Volatile.Read(ref _cached) is not { } cached || cached.Key != key)
        {
            cached = new Policies(key,
                new CorsPolicyBuilder().WithOrigins(origins).WithMethods("GET").WithHeaders("Authorization").Build(),
                new CorsPolicyBuilder().WithOrigins(origins).WithMethods("GET", "POST").WithHeaders("Authorization", "Content-Type").Build());
            Volatile.Write(ref _cached, cached);
        }
        return Task.FromResult<CorsPolicy?>(policyName == DemoPolicy ? cached.Demo : cached.Read);
    }

    /// <summary>The origins of the active members and of this node.</summary>
    public static string[] Origins(IConsensus consensus, NodeSettings settings) => MemberOrigins([settings.Self, .. consensus.Members]);

    /// <summary>Each member's origin; a loopback member also under its other loopback names (127.0.0.1, localhost, [::1]).</summary>
    public static string[] MemberOrigins(IEnumerable<ClusterNode> nodes)
    {
        var origins = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
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

    private sealed record Policies(string Key, CorsPolicy Read, CorsPolicy Demo);
}
