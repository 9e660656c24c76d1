using DotNext.Net.Cluster.Consensus.Raft;
using RaftMall.StateMachine;

namespace RaftMall.Node.Consensus;

/// <summary>What became of a proposed command.</summary>
public abstract record ProposeOutcome
{
    /// <summary>Committed and applied; <see cref="Result"/> is the command's answer.</summary>
    public sealed record Applied(MallResult Result, long Index) : ProposeOutcome;

    /// <summary>This node was not leader when it tried: nothing was appended, so the request may go elsewhere.</summary>
    public sealed record NotLeader : ProposeOutcome;

    /// <summary>Appended, but leadership was lost or the wait timed out: the entry may still commit.</summary>
    public sealed record Unknown(string Reason) : ProposeOutcome;
}

/// <summary>Stamps a command with this leader's clock, replicates it, and waits until it is applied here.</summary>
public sealed partial class Proposer(IRaftCluster cluster, NodeSettings settings, TimeProvider time, ILogger<Proposer> logger)
{
    private readonly TimeSpan _writeTimeout = TimeSpan.FromMilliseconds(settings.Cluster.WriteTimeoutMs);

    public async Task<ProposeOutcome> ProposeAsync(MallCommand command, CancellationToken token)
    {
        var proposal = new Proposal(command with { TimeMs = time.GetUtcNow().ToUnixTimeMilliseconds() });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(_writeTimeout);
        try
        {
            await cluster.ReplicateAsync(proposal.Encode(), proposal, timeout.Token).ConfigureAwait(false);
        }
        catch (NotLeaderException e) when (e.InnerException is null)
        {
            return new ProposeOutcome.NotLeader(); // thrown before anything was appended
        }
        catch (NotLeaderException)
        {
            LogOutcomeUnknown("leadership was lost while waiting for commit");
            return new ProposeOutcome.Unknown("leadership was lost while the write waited for commit; it may still commit");
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            LogOutcomeUnknown("timed out waiting for commit");
            return new ProposeOutcome.Unknown($"the write did not commit within {_writeTimeout.TotalMilliseconds:F0} ms; it may still commit");
        }
        return proposal.Result is { } result
            ? new ProposeOutcome.Applied(result, proposal.AppliedIndex)
            : new ProposeOutcome.Unknown("the entry was applied but its result did not reach this request");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "write outcome unknown: {Reason}")]
    private partial void LogOutcomeUnknown(string reason);
}
