using System.Collections.Frozen;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.Dashboard;

/// <summary>
/// Serves the dashboard (plain HTML, CSS and JavaScript embedded in this assembly, no build step) at / on every node.
/// The page holds no data itself: it reads the API, with the key from its URL fragment when the cluster needs one.
/// </summary>
public static class DashboardEndpoints
{
    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> Assets = LoadAssets();

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext context, IConsensus consensus, NodeSettings settings) => Serve(context, "index.html", Policy(consensus, settings))).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file, HttpContext context, IConsensus consensus, NodeSettings settings) => Serve(context, file, Policy(consensus, settings))).ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// The page may talk to this cluster's members (the active configuration when the page loads) and nothing else; no
    /// inline script or style, no framing.
    /// </summary>
    private static string Policy(IConsensus consensus, NodeSettings settings) =>
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + $"connect-src 'self' {string.Join(' ', CrossOrigin.Origins(consensus, settings).Where(IsValidSource))}; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>CSP's source grammar has no IPv6 literals: a page opened at http://[::1]:port reads only from its own node.</summary>
    private static bool IsValidSource(string origin) => !origin.Contains('[', StringComparison.Ordinal);

    private static IResult Serve(HttpContext context, string file, string policy)
    {
        if (!Assets.TryGetValue(file, out var asset)) return Results.NotFound();
        var headers = context.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ContentSecurityPolicy = policy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static FrozenDictionary<string, (byte[], string)> LoadAssets()
    {
        const string prefix = "dashboard/";
        var assembly = typeof(DashboardEndpoints).Assembly;
        var assets = new Dictionary<string, (byte[], string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            var contentType = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[name[prefix.Length..]] = (bytes.ToArray(), contentType);
        }
        return assets.ToFrozenDictionary();
    }
}
