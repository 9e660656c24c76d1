using RaftMall.Client;

namespace RaftMall.Cli;

/// <summary>
/// How this tool reaches a cluster of a cluster file: its nodes, its CA file, and the API key — RAFTMALL_API_KEY when
/// set, else the admin key of the cluster's credentials (the tool manages stock and the cluster, so it needs admin).
/// The client library takes all of it as options; reading the credentials file is the tool's job.
/// </summary>
public static class ClusterAccess
{
    /// <summary>The environment variable that gives the tool another key than the credentials file's.</summary>
    public const string ApiKeyVariable = "RAFTMALL_API_KEY";

    /// <summary>The key to send, read now (a first <c>cluster up</c> may have just written the file); null without one.</summary>
    public static string? ApiKey(ClusterFile cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key) return key;
        try
        {
            return cluster.EffectiveCredentials()?.KeyFor(ClientRole.Admin);
        }
        catch (ClusterFileException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    public static RaftMallClientOptions ClientOptions(ClusterFile cluster) => new()
    {
        Endpoints = [.. cluster.Nodes.Select(n => n.Uri)],
        ApiKey = ApiKey(cluster),
        TrustedCertificatesFile = cluster.CaFilePath,
    };

    /// <summary>One node's status within <paramref name="timeout"/>, no retries; null when it does not answer.</summary>
    public static Task<ClusterStatus?> TryStatusAsync(ClusterFile cluster, Uri node, TimeSpan timeout, CancellationToken token) =>
        RaftMallClient.TryGetClusterStatusAsync(node, ApiKey(cluster), timeout, token);
}
