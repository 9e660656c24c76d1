using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Logs what an operator needs to follow leadership: every leader change with its term, and every member that stops or
/// starts answering, once per change. DotNext's own "member is unavailable" warning carries a stack trace and repeats
/// for every failed request (every few ms in a failover); appsettings.json turns that category down to errors.
/// </summary>
public sealed partial class ClusterLifetime(NodeSettings settings, MemberDirectory directory, ILogger<ClusterLifetime> logger) : IClusterMemberLifetime
{
    public void OnStart(IRaftCluster cluster, IDictionary<string, string> metadata)
    {
        cluster.LeaderChanged += OnLeaderChanged;
        // Members are loaded from the configuration after this call: follow each as it is added.
        cluster.PeerDiscovered += OnMemberAdded;
        foreach (var member in cluster.Members.Where(m => m.IsRemote)) member.MemberStatusChanged += OnMemberStatusChanged;
        LogStarted(settings.NodeId, settings.Self.Address);
    }

    public void OnStop(IRaftCluster cluster)
    {
        cluster.LeaderChanged -= OnLeaderChanged;
        cluster.PeerDiscovered -= OnMemberAdded;
        foreach (var member in cluster.Members.Where(m => m.IsRemote)) member.MemberStatusChanged -= OnMemberStatusChanged;
    }

    private void OnMemberAdded(DotNext.Net.IPeerMesh mesh, DotNext.Net.PeerEventArgs added)
    {
        if (added is ClusterMemberEventArgs { Member: { IsRemote: true } member })
        {
            member.MemberStatusChanged += OnMemberStatusChanged;
            directory.Learn(member);
        }
    }

    private void OnMemberStatusChanged(ClusterMemberStatusChangedEventArgs change)
    {
        var id = directory.NodeAt(change.Member.EndPoint)?.Id ?? change.Member.EndPoint.ToString() ?? "?";
        if (change.NewStatus == ClusterMemberStatus.Unavailable) LogMemberUnavailable(id);
        else if (change.NewStatus == ClusterMemberStatus.Available && change.PreviousStatus == ClusterMemberStatus.Unavailable) LogMemberAvailable(id);
    }

    private void OnLeaderChanged(ICluster cluster, IClusterMember? leader)
    {
        var term = cluster is IRaftCluster raft ? raft.Term : -1;
        if (leader is null)
        {
            LogNoLeader(term);
            return;
        }
        var leaderId = leader.IsRemote ? directory.NodeAt(leader.EndPoint)?.Id ?? leader.EndPoint.ToString() ?? "?" : settings.NodeId;
        LogLeader(leaderId, term, leader.IsRemote ? "follower" : "leader");
        if (!leader.IsRemote && cluster is IRaftCluster won) _ = ForceSecondRoundAsync(won, term);
    }

    /// <summary>
    /// A new leader's first AppendEntries is always rejected: DotNext appends the no-op of its term before it becomes
    /// leader, so the followers' next index already counts an entry they do not have. The rejection carries the hint
    /// that fixes it, but the next round would wait for the heartbeat period, and until it runs the new leader commits
    /// nothing of its term (no writes, no reads, no coordinator). DotNext raises this event after the leader state
    /// exists and before its first round; asking for a round now makes the second one follow the first at once.
    /// It logs when the no-op of its term is committed: from then on the new leader takes writes (the failover bench reads
    /// the line to split a failover into its stages).
    /// </summary>
    private async Task ForceSecondRoundAsync(IRaftCluster cluster, long term)
    {
        var noOp = cluster.AuditTrail.LastEntryIndex;
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            // Logged the moment the no-op is applied (right after its commit), not when a forced round returns.
            var applied = cluster.AuditTrail.WaitForApplyAsync(noOp, bound.Token).AsTask();
            // Usually the second round commits it; the commit bound (ReplicationProgress) can take one more, and a round
            // that a silent member fails at once is over in microseconds: ask until it is applied, or the term is over.
            for (var round = 0; round < 50 && !applied.IsCompleted && cluster.Term == term; round++)
            {
                await cluster.ForceReplicationAsync(CancellationToken.None).ConfigureAwait(false);
            }
            await applied.ConfigureAwait(false);
            if (cluster.Term == term && cluster.Leader is { IsRemote: false }) LogFirstCommit(term, noOp);
        }
        catch (Exception e) when (e is NotLeaderException or InvalidOperationException or OperationCanceledException)
        {
            // Leadership already lost (the next leader does the same), or nothing applied within 10 s.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeId} joined the cluster at {Address}")]
    private partial void LogStarted(string nodeId, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "no leader (term {Term}): election in progress")]
    private partial void LogNoLeader(long term);

    [LoggerMessage(Level = LogLevel.Warning, Message = "member {MemberId} does not answer")]
    private partial void LogMemberUnavailable(string memberId);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {MemberId} answers again")]
    private partial void LogMemberAvailable(string memberId);

    [LoggerMessage(Level = LogLevel.Information, Message = "this leader committed the first entry of term {Term} (index {Index}): it takes writes")]
    private partial void LogFirstCommit(long term, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "leader is {LeaderId} in term {Term}; this node is {Role}")]
    private partial void LogLeader(string leaderId, long term, string role);
}
