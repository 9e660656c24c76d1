using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>Logs what an operator needs to follow leadership: every leader change with its term.</summary>
public sealed partial class ClusterLifetime(NodeSettings settings, ILogger<ClusterLifetime> logger) : IClusterMemberLifetime
{
    public void OnStart(IRaftCluster cluster, IDictionary<string, string> metadata)
    {
        cluster.LeaderChanged += OnLeaderChanged;
        LogStarted(settings.NodeId, settings.Self.Address);
    }

    public void OnStop(IRaftCluster cluster) => cluster.LeaderChanged -= OnLeaderChanged;

    private void OnLeaderChanged(ICluster cluster, IClusterMember? leader)
    {
        var term = cluster is IRaftCluster raft ? raft.Term : -1;
        if (leader is null)
        {
            LogNoLeader(term);
            return;
        }
        var leaderId = leader.IsRemote ? settings.NodeAt(leader.EndPoint)?.Id ?? leader.EndPoint.ToString() ?? "?" : settings.NodeId;
        LogLeader(leaderId, term, leader.IsRemote ? "follower" : "leader");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeId} joined the cluster at {Address}")]
    private partial void LogStarted(string nodeId, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "no leader (term {Term}): election in progress")]
    private partial void LogNoLeader(long term);

    [LoggerMessage(Level = LogLevel.Information, Message = "leader is {LeaderId} in term {Term}; this node is {Role}")]
    private partial void LogLeader(string leaderId, long term, string role);
}
