using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Http;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>Membership changes on DotNext's single-server changes: one at a time, on the leader.</summary>
public sealed partial class RaftConsensus
{
    public async Task<MembershipOutcome> AddMemberAsync(Uri address, CancellationToken token)
    {
        if (!IsLeader) return new MembershipOutcome.NotLeader();
        if (IsMember(address)) return new MembershipOutcome.Done(Changed: false);
        // Its warm-up rounds go out even if it answered one late: a fresh process's first answers often are.
        using var exempt = _silent?.Exempt(address);
        return await ChangeAsync("add", address, cluster => cluster.AddMemberAsync(NodeSettings.MemberUri(address), token), token).ConfigureAwait(false) switch
        {
            // DotNext answers false when the node did not catch up within its warm-up rounds (or answered with a newer term).
            MembershipOutcome.Done { Changed: false } => new MembershipOutcome.CatchUpFailed(
                $"the node at {address.GetLeftPart(UriPartial.Authority)} did not catch up with the log ({_log.LastEntryIndex} entries) within "
                + $"{_settings.Cluster.MembershipWarmupRounds} replication rounds, or has a newer term (a data directory of another cluster)"),
            var outcome => outcome,
        };
    }

    public async Task<MembershipOutcome> RemoveMemberAsync(Uri address, CancellationToken token)
    {
        if (!IsLeader) return new MembershipOutcome.NotLeader();
        if (!IsMember(address)) return new MembershipOutcome.Done(Changed: false);
        return await ChangeAsync("remove", address, cluster => cluster.RemoveMemberAsync(NodeSettings.MemberUri(address), token), token).ConfigureAwait(false);
    }

    public async Task<bool> ResignAsync(CancellationToken token)
    {
        if (!IsLeader) return false;
        LogResigning();
        return await _cluster.ResignAsync(token).ConfigureAwait(false);
    }

    private bool IsMember(Uri address) => _cluster.Members.Any(m => MemberDirectory.AddressOf(m.EndPoint) is { } a && NodeSettings.SameAuthority(a, address));

    private async Task<MembershipOutcome> ChangeAsync(string change, Uri address, Func<IRaftHttpCluster, Task<bool>> apply, CancellationToken token)
    {
        if (_cluster is not IRaftHttpCluster http) throw new InvalidOperationException("membership changes need DotNext's HTTP cluster");
        LogChanging(change, address);
        try
        {
            var changed = await apply(http).ConfigureAwait(false);
            LogChanged(change, address, changed);
            return new MembershipOutcome.Done(changed);
        }
        catch (RaftProtocolException e) when (e.GetType().Name == "ConcurrentMembershipModificationException")
        {
            return new MembershipOutcome.Busy();
        }
        catch (NotLeaderException e) when (e.InnerException is null)
        {
            return new MembershipOutcome.NotLeader();
        }
        catch (NotLeaderException)
        {
            return new MembershipOutcome.Unknown($"leadership was lost while the {change} of {address.Authority} was under way; it may still commit");
        }
        catch (InvalidOperationException) when (!IsLeader)
        {
            return new MembershipOutcome.NotLeader();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return new MembershipOutcome.Unknown($"the {change} of {address.Authority} did not complete in time; it may still commit");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "membership: resigning leadership (asked to remove this node)")]
    private partial void LogResigning();

    [LoggerMessage(Level = LogLevel.Information, Message = "membership: {Change} {Address}")]
    private partial void LogChanging(string change, Uri address);

    [LoggerMessage(Level = LogLevel.Information, Message = "membership: {Change} {Address}: committed {Changed}")]
    private partial void LogChanged(string change, Uri address, bool changed);
}
