using RaftMall.Client;

namespace RaftMall.Cli;

/// <summary>
/// Where a data command goes and with what: the nodes, the API key, the CA to trust, how long to keep trying. Each comes
/// from its flag, else its environment variable, else the cluster file (nodes, its CA file, the admin key of its
/// credentials: the tool manages stock and the cluster, so it needs admin). With --endpoints or RAFTMALL_ENDPOINTS no
/// cluster file is read at all, so the tool talks to any cluster, as etcdctl does.
/// </summary>
public sealed class Connection(IReadOnlyList<Uri> endpoints, string? apiKey, string? caFile, TimeSpan timeout, ClusterFile? cluster)
{
    public IReadOnlyList<Uri> Endpoints { get; } = endpoints;

    /// <summary>
    /// The key given, else the cluster file's admin key read now, not when this was made: `cluster up` and the demos
    /// write the credentials file of a new cluster after they started using this connection.
    /// </summary>
    public string? ApiKey => apiKey ?? CredentialsKey();

    public string? CaFile { get; } = caFile;

    public TimeSpan Timeout { get; } = timeout;

    /// <summary>The cluster file, or null for a cluster given by --endpoints.</summary>
    public ClusterFile? Cluster { get; } = cluster;

    public const string EndpointsVariable = "RAFTMALL_ENDPOINTS";
    public const string ApiKeyVariable = "RAFTMALL_API_KEY";
    public const string CaCertVariable = "RAFTMALL_CACERT";
    public const string TimeoutVariable = "RAFTMALL_TIMEOUT";

    /// <summary>How long a command keeps retrying when neither --timeout nor RAFTMALL_TIMEOUT says.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    public RaftMallClientOptions ClientOptions() => new()
    {
        Endpoints = Endpoints,
        ApiKey = ApiKey,
        TrustedCertificatesFile = CaFile,
        RetryBudget = Timeout,
        AttemptTimeout = Timeout < TimeSpan.FromSeconds(10) ? Timeout : TimeSpan.FromSeconds(10),
    };

    /// <summary>One node's status within a second (or the timeout, when shorter), no retries; null when it does not answer.</summary>
    public Task<ClusterStatus?> TryStatusAsync(Uri node, CancellationToken token) =>
        RaftMallClient.TryGetClusterStatusAsync(node, ApiKey, Timeout < ProbeTimeout ? Timeout : ProbeTimeout, CaFile, token);

    /// <summary>Reads the flags and the environment; <paramref name="cluster"/> is asked for only when they leave something open.</summary>
    public static Connection From(string? endpointsFlag, string? apiKeyFlag, string? caFlag, string? timeoutFlag, Func<ClusterFile> cluster)
    {
        var timeout = ParseTimeout(timeoutFlag, "--timeout") ?? ParseTimeout(Variable(TimeoutVariable), TimeoutVariable) ?? DefaultTimeout;
        var caFile = NonEmpty(caFlag) ?? Variable(CaCertVariable);
        if (caFile is not null && !File.Exists(caFile)) throw new CliException(ExitCodes.Usage, $"CA file {caFile} does not exist");
        var apiKey = NonEmpty(apiKeyFlag) ?? Variable(ApiKeyVariable);
        if ((NonEmpty(endpointsFlag) ?? Variable(EndpointsVariable)) is { } list)
        {
            var source = NonEmpty(endpointsFlag) is not null ? "--endpoints" : EndpointsVariable;
            return new Connection(ParseEndpoints(list, source), apiKey, caFile, timeout, null);
        }
        var file = cluster();
        return new Connection([.. file.Nodes.Select(n => n.Uri)], apiKey, caFile ?? file.CaFilePath, timeout, file);
    }

    private string? CredentialsKey()
    {
        try
        {
            return Cluster?.EffectiveCredentials()?.KeyFor(ClientRole.Admin);
        }
        catch (ClusterFileException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    /// <summary>"http://127.0.0.1:7101,http://127.0.0.1:7102" (a host:port without a scheme is http://).</summary>
    public static Uri[] ParseEndpoints(string list, string source)
    {
        var endpoints = new List<Uri>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = item.Contains("://", StringComparison.Ordinal) ? item : "http://" + item;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                throw new CliException(ExitCodes.Usage, $"{source}: '{item}' is not a node address (examples: http://127.0.0.1:7101, https://node1:7101)");
            }
            endpoints.Add(uri);
        }
        return endpoints.Count > 0 ? [.. endpoints] : throw new CliException(ExitCodes.Usage, $"{source}: no node address given");
    }

    private static TimeSpan? ParseTimeout(string? text, string source)
    {
        if (NonEmpty(text) is not { } value) return null;
        try
        {
            var timeout = Bench.BenchSettings.ParseDuration(value, source);
            return timeout > TimeSpan.Zero ? timeout : throw new CliException(ExitCodes.Usage, $"{source}: the timeout must be more than 0");
        }
        catch (Bench.BenchException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    private static string? Variable(string name) => NonEmpty(Environment.GetEnvironmentVariable(name));

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
