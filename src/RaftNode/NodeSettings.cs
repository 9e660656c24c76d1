
namespace RaftMall.Node;

/// <summary>
/// Who this node is, from cluster.yml and its command line: its id, address and data directory. The nodes of
/// cluster.yml are the bootstrap list of a new cluster only; who the members are now is the active Raft
/// configuration (<see cref="Consensus.IConsensus.Members"/>).
/// </summary>
public sealed class NodeSettings
{
    /// <param name="cluster">The cluster file (with its overrides).</param>
    /// <param name="nodeId">This node's id.</param>
    /// <param name="address">
    /// This node's address when it is not in the bootstrap list (a node that joins a running cluster); null takes it
    /// from cluster.yml.
    /// </param>
    /// <param name="join">
    /// Start with an empty configuration and wait to be added, even when cluster.yml lists this node (a replacement).
    /// </param>
    public NodeSettings(ClusterFile cluster, string nodeId, string? address = null, bool join = false)
    {
        Cluster = cluster;
        var listed = cluster.Nodes.Find(n => string.Equals(n.Id, nodeId, StringComparison.Ordinal));
        if (address is null)
        {
            Self = listed ?? throw new ClusterFileException(
                $"node '{nodeId}' is not in the bootstrap list of {Describe(cluster)} (its nodes are: {string.Join(", ", cluster.Nodes.Select(n => n.Id))}); "
                + "a node that joins a running cluster needs its own address: --RaftMall:Address=<url>");
        }
        else
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ClusterFileException($"RaftMall:Address '{address}' is not an http:// or https:// address");
            }
            if (listed is not null && !SameAuthority(listed.Uri, uri))
            {
                throw new ClusterFileException($"node '{nodeId}' is at {listed.Address} in {Describe(cluster)}, not at {address}");
            }
            Self = listed ?? new ClusterNode { Id = nodeId, Address = uri.GetLeftPart(UriPartial.Authority) };
        }
        Joins = join || listed is null;
        DataDirectory = cluster.NodeDataDirectory(nodeId);
    }

    public ClusterFile Cluster { get; }

    private static string Describe(ClusterFile cluster) => cluster.SourcePath.Length > 0 ? cluster.SourcePath : "the configuration";

    public ClusterNode Self { get; }

    public string NodeId => Self.Id;

    /// <summary>
    /// True when this node starts outside the configuration and waits until a leader adds it (it is not in the
    /// bootstrap list, or was told to join); false when its first start seeds the configuration from cluster.yml.
    /// </summary>
    public bool Joins { get; }

    public string DataDirectory { get; }

    public string WalDirectory => Path.Combine(DataDirectory, "wal");

    public string SnapshotDirectory => Path.Combine(DataDirectory, "snapshots");

    /// <summary>The persisted Raft configuration (the members), kept by the consensus library.</summary>
    public string MembershipFile => Path.Combine(DataDirectory, "membership", "configuration");

    /// <summary>The member address Raft knows a node by (its base URL, normalized).</summary>
    public static Uri MemberUri(ClusterNode node) => MemberUri(node.Uri);

    /// <summary>The member address Raft knows <paramref name="address"/> by: scheme, host and port, ending in a slash.</summary>
    public static Uri MemberUri(Uri address) => new(address.GetLeftPart(UriPartial.Authority) + "/");

    /// <summary>The canonical spelling of a member's address (scheme, host and port) under which the member directory binds its id.</summary>
    public static string AddressKey(Uri address) => address.GetLeftPart(UriPartial.Authority);

    /// <summary>True when both addresses name the same scheme, host and port.</summary>
    public static bool SameAuthority(Uri a, Uri b) =>
        string.Equals(a.GetLeftPart(UriPartial.Authority), b.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);

    /// <summary>The bootstrap node (cluster.yml) whose address is <paramref name="address"/>, if any.</summary>
    public ClusterNode? BootstrapNodeAt(Uri address) => Cluster.Nodes.Find(n => SameAuthority(n.Uri, address));
}
