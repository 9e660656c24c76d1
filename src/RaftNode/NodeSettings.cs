
namespace RaftMall.Node;

/// <summary>Who this node is, from cluster.yml and its command line: its id, address, data directory and peers.</summary>
public sealed class NodeSettings
{
    public NodeSettings(ClusterFile cluster, string nodeId)
    {
        Cluster = cluster;
        Self = cluster.Node(nodeId);
        DataDirectory = cluster.NodeDataDirectory(nodeId);
    }

    public ClusterFile Cluster { get; }

    public ClusterNode Self { get; }

    public string NodeId => Self.Id;

    public string DataDirectory { get; }

    public string WalDirectory => Path.Combine(DataDirectory, "wal");

    public string SnapshotDirectory => Path.Combine(DataDirectory, "snapshots");

    /// <summary>The member address Raft knows a node by (its base URL, normalized).</summary>
    public static Uri MemberUri(ClusterNode node) => new(node.Uri.GetLeftPart(UriPartial.Authority) + "/");

    /// <summary>The cluster.yml node whose address is <paramref name="endPoint"/>, if any.</summary>
    public ClusterNode? NodeAt(System.Net.EndPoint? endPoint)
    {
        if (endPoint is null) return null;
        var text = endPoint switch
        {
            Microsoft.AspNetCore.Connections.UriEndPoint uri => uri.Uri.GetLeftPart(UriPartial.Authority),
            _ => endPoint.ToString(),
        };
        return Cluster.Nodes.Find(n => string.Equals(n.Uri.GetLeftPart(UriPartial.Authority), text, StringComparison.OrdinalIgnoreCase));
    }
}
