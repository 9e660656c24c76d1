namespace RaftMall.Client;

/// <summary>Where the cluster is and how long to keep trying.</summary>
public sealed class RaftMallClientOptions
{
    /// <summary>Any of the cluster's nodes, as absolute http:// or https:// addresses; the client finds the leader itself.</summary>
    public IReadOnlyList<Uri> Endpoints { get; set; } = [];

    /// <summary>Time for one attempt against one node.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Total time a call keeps retrying through failovers before it gives up (zero: one attempt).</summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The API key sent as <c>Authorization: Bearer</c> (none when null or empty: only an insecure cluster answers).</summary>
    public string? ApiKey { get; set; }

    /// <summary>PEM certificates to trust for https:// nodes besides the system's roots (a private CA or self-signed nodes).</summary>
    public string? TrustedCertificatesFile { get; set; }

    /// <summary>What is wrong with <paramref name="options"/>, one sentence per problem; empty when they can be used.</summary>
    internal static IEnumerable<string> Problems(RaftMallClientOptions options)
    {
        if (options.Endpoints is not { Count: > 0 }) yield return "at least one endpoint is required (Endpoints: the addresses of the cluster's nodes)";
        foreach (var endpoint in options.Endpoints ?? [])
        {
            if (endpoint is null || !endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https"))
            {
                yield return $"endpoint '{endpoint}' is not an absolute http:// or https:// address";
            }
            else if (endpoint.AbsolutePath != "/" || endpoint.Query.Length > 0)
            {
                yield return $"endpoint '{endpoint}' has a path or query; give the node's address only (e.g. {endpoint.GetLeftPart(UriPartial.Authority)})";
            }
        }
        if (options.AttemptTimeout <= TimeSpan.Zero && options.AttemptTimeout != Timeout.InfiniteTimeSpan) yield return $"AttemptTimeout must be positive (is {options.AttemptTimeout})";
        if (options.RetryBudget < TimeSpan.Zero) yield return $"RetryBudget must not be negative (is {options.RetryBudget})";
        if (options.ApiKey is { } key && key.Any(char.IsWhiteSpace)) yield return "ApiKey contains white space; is it the key alone (without 'Bearer ')?";
        if (options.TrustedCertificatesFile is { } pem && !File.Exists(pem)) yield return $"TrustedCertificatesFile '{pem}' does not exist";
    }

    /// <summary>The handler a client sends through unless it is given one: trusts the configured certificates, connects within a second.</summary>
    internal static SocketsHttpHandler DefaultHandler(RaftMallClientOptions options) =>
        TrustedCertificates.Handler(options.TrustedCertificatesFile, TimeSpan.FromSeconds(1));
}
