using RaftMall.Node.Consensus;
using RaftMall.Node.Security;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// On the leader only: binds the member id of every member whose address the replicated member directory binds
/// nothing to yet (<see cref="BindMember"/>). That happens once for the bootstrap members of a new cluster, and once
/// for every member of a data directory from before node identity. It never changes a binding: a node that answers at
/// a bound address with another member id is a wiped or replaced disk, refused until an operator replaces the member
/// (the add path binds the new id, <c>Api/MemberEndpoints</c>).
/// </summary>
public sealed partial class IdentityBinder(IConsensus consensus, ReplicatedState state, Proposer proposer, NodeIdentity identity, IdentityExchange exchange,
    NodeSettings settings, TimeProvider time, ILogger<IdentityBinder> logger) : BackgroundService
{
    /// <summary>How often the leader looks for unbound members.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (consensus.Leadership is not { } leadership || identity.Current is not { } mine) continue;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leadership);
            foreach (var member in consensus.Members)
            {
                var address = NodeSettings.AddressKey(member.Uri);
                if (state.MemberIds.ContainsKey(address)) continue;
                try
                {
                    await BindAsync(member, address, mine, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    break; // leadership ended: the next leader binds what is left
                }
            }
        }
    }

    private async Task BindAsync(ClusterNode member, string address, IdentityRecord mine, CancellationToken token)
    {
        string memberId;
        if (NodeSettings.SameAuthority(member.Uri, settings.Self.Uri))
        {
            memberId = mine.MemberId;
        }
        else
        {
            switch (await exchange.ReadAsync(member.Uri, token).ConfigureAwait(false))
            {
                case IdentityExchange.Answer.Known { Identity: var told } when told.ClusterId == mine.ClusterId:
                    memberId = told.MemberId;
                    break;
                case IdentityExchange.Answer.Known { Identity: var told }:
                    LogOtherCluster(member.Id, address, told.ClusterId, mine.ClusterId);
                    return;
                case IdentityExchange.Answer.Refused refused:
                    LogNotBound(member.Id, address, refused.Reason);
                    return;
                default:
                    return;
            }
        }
        var outcome = await proposer.ProposeAsync(new BindMember(address, memberId), token).ConfigureAwait(false);
        if (outcome is ProposeOutcome.Applied { Result: MemberBound }) LogBound(member.Id, address, memberId);
        else LogNotApplied(member.Id, address, outcome);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "identity: bound {NodeId} at {Address} to member {MemberId}")]
    private partial void LogBound(string nodeId, string address, string memberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "identity: {NodeId} at {Address} is of cluster {TheirCluster}, not {OurCluster}: not bound")]
    private partial void LogOtherCluster(string nodeId, string address, string theirCluster, string ourCluster);

    [LoggerMessage(Level = LogLevel.Debug, Message = "identity: binding {NodeId} at {Address} was not applied: {Outcome}")]
    private partial void LogNotApplied(string nodeId, string address, ProposeOutcome outcome);

    [LoggerMessage(Level = LogLevel.Debug, Message = "identity: {NodeId} at {Address} not bound yet: {Reason}")]
    private partial void LogNotBound(string nodeId, string address, string reason);
}
