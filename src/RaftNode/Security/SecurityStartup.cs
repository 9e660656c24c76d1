using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using RaftMall.Contract;
using RaftMall.Node.Api;

namespace RaftMall.Node.Security;

/// <summary>Authentication, TLS, Kestrel's limits against slow clients, and the per-client rate limiter.</summary>
public static class SecurityStartup
{
    /// <summary>Time a client has to send the request line and headers (Kestrel's default is 30 s).</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Slowest request body Kestrel accepts after <see cref="MinBodyRateGrace"/> (API bodies; peers are exempt).</summary>
    public const double MinBodyBytesPerSecond = 240;

    public static readonly TimeSpan MinBodyRateGrace = TimeSpan.FromSeconds(5);

    /// <summary>Idle time after which a kept-alive connection is closed.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Open connections per node (clients and peers together).</summary>
    public const long MaxConnections = 10_000;

    /// <summary>Request line plus headers, in bytes (Kestrel's default, stated here so it is documented).</summary>
    public const int MaxRequestHeadersBytes = 32 * 1024;

    /// <summary>
    /// Registers the node's security and the rate limiter, sets Kestrel's limits and TLS, and signs DotNext's Raft
    /// requests. Throws <see cref="ClusterFileException"/> when the node has no usable credentials.
    /// </summary>
    public static NodeSecurity Configure(WebApplicationBuilder builder, NodeSettings settings, IHttpClientBuilder raftClient)
    {
        var cluster = settings.Cluster;
        var security = NodeSecurity.From(cluster);
        var certificate = ServerCertificate(settings);
        var caFile = cluster.CaFilePath;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = RequestLimits.MaxApiBodyBytes; // peers lift it per request once authenticated
            k.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
            k.Limits.MinRequestBodyDataRate = new MinDataRate(MinBodyBytesPerSecond, MinBodyRateGrace);
            k.Limits.KeepAliveTimeout = KeepAliveTimeout;
            k.Limits.MaxConcurrentConnections = MaxConnections;
            k.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadersBytes;
            if (certificate is not null) k.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
        });

        var services = builder.Services;
        services.AddSingleton(security);
        services.AddSingleton<NonceCache>();
        services.AddSingleton<NodeIdentity>();
        services.AddSingleton<IdentityExchange>();
        services.AddTransient<PeerSigner>();
        raftClient.AddHttpMessageHandler<PeerSigner>();
        if (caFile is not null) services.AddHttpClient(LeaderForwarding.ClientName).ConfigurePrimaryHttpMessageHandler(() => TrustedCertificates.Handler(caFile, TimeSpan.FromSeconds(1)));
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition(context, cluster.RateLimitPerSecond));
            o.OnRejected = (rejected, _) => new ValueTask(
                Problems.Of(StatusCodes.Status429TooManyRequests, "rate_limited",
                    $"more than {cluster.RateLimitPerSecond} requests per second from this client; nothing was applied", retryAfterSeconds: 1)
                .ExecuteAsync(rejected.HttpContext));
        });
        return security;
    }

    /// <summary>One token bucket per API key (or per remote address without one), refilled every 100 ms; peers and public paths are not limited.</summary>
    private static RateLimitPartition<string> RateLimitPartition(HttpContext context, int perSecond)
    {
        if (AccessRules.IsPublic(context.Request.Path)) return System.Threading.RateLimiting.RateLimitPartition.GetNoLimiter("");
        var client = context.Items[ClientAuthentication.ClientItem] as string is { } name
            ? "key:" + name
            : "ip:" + context.Connection.RemoteIpAddress;
        return System.Threading.RateLimiting.RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond,
            TokensPerPeriod = Math.Max(1, perSecond / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>The node's certificate when it is addressed over https://; an https address without one is an error.</summary>
    private static X509Certificate2? ServerCertificate(NodeSettings settings)
    {
        var cluster = settings.Cluster;
        if (settings.Self.Uri.Scheme != Uri.UriSchemeHttps) return null;
        if (cluster.TlsCertificateFile.Length == 0 || cluster.TlsKeyFile.Length == 0)
        {
            throw new ClusterFileException($"node {settings.NodeId} is addressed over https: set tlsCertificateFile and tlsKeyFile (PEM)");
        }
        return X509Certificate2.CreateFromPemFile(cluster.ResolvePath(cluster.TlsCertificateFile), cluster.ResolvePath(cluster.TlsKeyFile));
    }
}
