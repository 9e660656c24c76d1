using DotNext.Net.Cluster.Consensus.Raft;
using RaftMall.Configuration;

namespace RaftMall.Node.Consensus;

/// <summary>This node's view of the cluster in cluster.yml terms: who leads, what role this node has.</summary>
public sealed class ClusterView
{
    private readonly IRaftCluster cluster;
    private readonly NodeSettings settings;
    private TaskCompletionSource _leaderChanged = NewSignal();

    public ClusterView(IRaftCluster cluster, NodeSettings settings)
    {
        this.cluster = cluster;
        this.settings = settings;
        cluster.LeaderChanged += (_, _) => Interlocked.Exchange(ref _leaderChanged, NewSignal()).TrySetResult();
    }

    /// <summary>
    /// Completes at the next change of leader (an election started or a leader became known). Take it before reading
    /// <see cref="Leader"/>, so that a change in between is not missed.
    /// </summary>
    public Task NextLeaderChange => Volatile.Read(ref _leaderChanged).Task;

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

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
