using YamlDotNet.Serialization;

namespace RaftMall.Configuration;

// Security and abuse settings. The secrets (peer secret, API keys) normally come from the credentials file or the
// node's environment, not from cluster.yml, which is meant to be shared.
public sealed partial class ClusterFile
{
    /// <summary>
    /// The credentials file (peer secret and API keys), relative to this file's directory: <c>credentials.env</c>
    /// next to the data directory by default. <c>raftmall cluster up</c> creates it (mode 0600) when missing.
    /// </summary>
    public string CredentialsFile { get; set; } = "credentials.env";

    /// <summary>The secret every member signs its Raft requests with. From the credentials file unless configured.</summary>
    public string PeerSecret { get; set; } = "";

    /// <summary>Client API keys with their roles. From the credentials file unless configured.</summary>
    public List<ApiKeyEntry> ApiKeys { get; set; } = [];

    /// <summary>
    /// Run without client and peer authentication. Only for a network where every process that can reach a node's
    /// port is trusted; a node with no credentials refuses to start unless this is set.
    /// </summary>
    public bool Insecure { get; set; }

    /// <summary>PEM certificate (chain) of this node, for HTTPS; used when the node's address is https://.</summary>
    public string TlsCertificateFile { get; set; } = "";

    /// <summary>PEM private key of <see cref="TlsCertificateFile"/>.</summary>
    public string TlsKeyFile { get; set; } = "";

    /// <summary>
    /// PEM certificate(s) of the authority (or the self-signed certificates) that peers and clients trust for this
    /// cluster, in addition to the system's roots. Empty: the system's roots only.
    /// </summary>
    public string TlsCaFile { get; set; } = "";

    /// <summary>Requests per second one client (one API key; or one remote address without a key) may send to one node.</summary>
    public int RateLimitPerSecond { get; set; } = 20_000;

    /// <summary>API requests one node serves at the same time; more answer 503 <c>overloaded</c>.</summary>
    public int MaxConcurrentRequests { get; set; } = 512;

    /// <summary>The CA file (tlsCaFile), absolute; null when none is set.</summary>
    [YamlIgnore]
    public string? CaFilePath => TlsCaFile.Length > 0 ? ResolvePath(TlsCaFile) : null;

    /// <summary>The credentials file, absolute.</summary>
    [YamlIgnore]
    public string CredentialsPath => ResolvePath(CredentialsFile);

    /// <summary>A path from this file, absolute (relative paths are relative to the file's directory).</summary>
    public string ResolvePath(string path) =>
        Path.IsPathRooted(path) || SourcePath.Length == 0 ? Path.GetFullPath(path) : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(SourcePath)!, path));

    /// <summary>The credentials from configuration, or else from the credentials file (null when there are none).</summary>
    public ClusterCredentials? EffectiveCredentials()
    {
        if (PeerSecret.Length > 0 || ApiKeys.Count > 0) return new ClusterCredentials { PeerSecret = PeerSecret, ApiKeys = ApiKeys };
        return ClusterCredentials.TryLoad(CredentialsPath);
    }
}
