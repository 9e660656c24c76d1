using System.Security.Cryptography;
using System.Text;

namespace RaftMall.Node.Security;

/// <summary>
/// This node's credentials, checked once at startup: the API keys (looked up by their SHA-256, so a lookup costs
/// the same whatever the key) and the peer secret's HMAC key. With <see cref="Insecure"/> both checks are off.
/// </summary>
public sealed class NodeSecurity
{
    private readonly Dictionary<string, ApiKeyEntry> _keysByHash = new(StringComparer.Ordinal);

    private NodeSecurity(bool insecure, string why, ClusterCredentials? credentials)
    {
        Insecure = insecure;
        Description = why;
        if (credentials is null) return;
        PeerKey = Encoding.UTF8.GetBytes(credentials.PeerSecret);
        foreach (var key in credentials.ApiKeys) _keysByHash[Hash(key.Key)] = key;
    }

    /// <summary>No client or peer authentication: every process that reaches the port is trusted.</summary>
    public bool Insecure { get; }

    /// <summary>Where the credentials came from, or why there are none (for the startup log line).</summary>
    public string Description { get; }

    /// <summary>The HMAC key of the peer secret.</summary>
    public byte[] PeerKey { get; } = [];

    /// <summary>The key entry for a presented key, or null.</summary>
    public ApiKeyEntry? Find(string presented) => _keysByHash.GetValueOrDefault(Hash(presented));

    /// <summary>
    /// The node's security from its settings. A node without credentials refuses to start unless it was told
    /// <c>Insecure</c> explicitly: a coordinator that silently accepted writes from anyone who reaches its port
    /// would be the worst default, and `raftmall cluster up` generates credentials so the first run needs none.
    /// </summary>
    public static NodeSecurity From(ClusterFile cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.Insecure) return new NodeSecurity(true, "INSECURE (RaftMall:Insecure=true): no client or peer authentication", null);
        var fromConfiguration = cluster.PeerSecret.Length > 0 || cluster.ApiKeys.Count > 0;
        var credentials = cluster.EffectiveCredentials();
        if (credentials is null)
        {
            throw new ClusterFileException(
                $"no credentials: neither RaftMall:PeerSecret / RaftMall:ApiKeys in the configuration nor the credentials file {cluster.CredentialsPath}. "
                + "`raftmall cluster up` generates one for a local cluster; for a deployment see SECURITY.md; "
                + "--RaftMall:Insecure=true runs without authentication (trusted networks only)");
        }
        var problems = new List<string>();
        if (credentials.PeerSecret.Length < ClusterCredentials.MinPeerSecretLength) problems.Add($"the peer secret must be at least {ClusterCredentials.MinPeerSecretLength} characters");
        if (credentials.ApiKeys.Count == 0) problems.Add("there is no API key");
        foreach (var key in credentials.ApiKeys)
        {
            if (key.Key.Length < ClusterCredentials.MinApiKeyLength) problems.Add($"API key '{key.Name}' must be at least {ClusterCredentials.MinApiKeyLength} characters");
            if (!Enum.IsDefined(key.Role)) problems.Add($"API key '{key.Name}' has no valid role (admin, writer or reader)");
        }
        if (credentials.ApiKeys.Select(k => k.Key).Distinct(StringComparer.Ordinal).Count() != credentials.ApiKeys.Count) problems.Add("two API keys are the same");
        var source = fromConfiguration ? "the configuration" : cluster.CredentialsPath;
        if (problems.Count > 0) throw new ClusterFileException($"credentials from {source} are not valid: {string.Join("; ", problems)}");
        return new NodeSecurity(false, $"{credentials.ApiKeys.Count} API keys and the peer secret from {source}", credentials);
    }

    private static string Hash(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
