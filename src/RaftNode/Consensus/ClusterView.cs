using DotNext.Net.Cluster.Consensus.Raft;
using RaftMall.Client;

namespace RaftMall.Node.Consensus;

/// <summary>This node's view of the cluster in cluster.yml terms: who leads, what role this node has.</summary>
public sealed class ClusterView(IRaftCluster cluster, NodeSettings settings)
{
    public IRaftCluster Raft => cluster;

    public NodeSettings Settings => settings;

    public bool IsLeader => cluster.Leader is { IsRemote: false };

    /// <summary>True when this node leads and has committed an entry of its own term (reads and writes are safe).</summary>
    public bool IsReadyLeader => IsLeader && !cluster.LeadershipToken.IsCancellationRequested;

    public ClusterNode? Leader => cluster.Leader is { } leader ? (leader.IsRemote ? settings.NodeAt(leader.EndPoint) : settings.Self) : null;

    public string Role => cluster.Leader switch
    {
        null => "candidate",
        { IsRemote: false } => "leader",
        _ => "follower",
    };

    public long Term => cluster.Term;

    public long CommitIndex => cluster.AuditTrail.LastCommittedEntryIndex;
}
