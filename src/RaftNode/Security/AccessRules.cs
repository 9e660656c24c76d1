using RaftMall.Contract;

namespace RaftMall.Node.Security;

/// <summary>
/// Which role an API request needs, by method and path, in one table so a new endpoint is covered without
/// annotating it: reads need reader; stock, cluster and demo-control writes (and the operator's transaction retry, and
/// moving or deleting a consumer's position) need admin; push subscriptions need admin for reads too; a consumer's own ack is a writer's;
/// every other write needs writer. /metrics needs a reader key; other paths outside /api (health, OpenAPI, the
/// dashboard's static files) are public.
/// </summary>
public static class AccessRules
{
    public static bool IsPublic(PathString path) => !path.StartsWithSegments("/api") && !path.StartsWithSegments("/metrics");

    public static ClientRole Required(string method, PathString path)
    {
        // Subscriptions name the services and URLs the leader calls: reading them is an admin's too.
        if (path.StartsWithSegments("/api/subscriptions")) return ClientRole.Admin;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return ClientRole.Reader;
        if (path.StartsWithSegments("/api/stock") || path.StartsWithSegments("/api/cluster")) return ClientRole.Admin;
        if (path.StartsWithSegments("/api/demo")) return ClientRole.Admin; // kill and start nodes (exists only in demo mode)
        if (path.StartsWithSegments("/api/consumers") && !HttpMethods.IsPost(method)) return ClientRole.Admin; // move or delete; POST .../ack is the consumer's
        if (path.StartsWithSegments("/api/transactions") && path.Value!.TrimEnd('/').EndsWith("/retry", StringComparison.Ordinal)) return ClientRole.Admin;
        return ClientRole.Writer;
    }
}
