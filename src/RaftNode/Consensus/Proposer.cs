using RaftMall.StateMachine;

namespace RaftMall.Node.Consensus;

/// <summary>
/// Stamps a command with this leader's clock (apply is deterministic: time comes from the proposer, in the entry) and
/// proposes it as one log entry.
/// </summary>
public sealed class Proposer(IConsensus consensus, TimeProvider time)
{
    public Task<ProposeOutcome> ProposeAsync(MallCommand command, CancellationToken token) =>
        consensus.ProposeAsync(command with { TimeMs = time.GetUtcNow().ToUnixTimeMilliseconds() }, token);
}
