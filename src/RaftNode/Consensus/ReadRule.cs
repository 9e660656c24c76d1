namespace RaftMall.Node.Consensus;

/// <summary>What <see cref="ReadRule"/> needs from a Raft implementation.</summary>
public interface IReadBarrier
{
    /// <summary>
    /// The library's read barrier: on the leader a round of heartbeats to a majority; on a follower, the leader's
    /// commit index, waited for until applied here.
    /// </summary>
    Task BarrierAsync(CancellationToken token);

    bool IsLeader { get; }

    /// <summary>
    /// The library names this node the leader, but it holds no confirmed leadership: a new leader before its first
    /// commit, or a leader that stepped down on an answer with a higher term (DotNext 6.12 keeps naming it until the
    /// next leader's AppendEntries or its own election timeout).
    /// </summary>
    bool IsUnconfirmedLeader { get; }

    long Term { get; }

    /// <summary>The term of the last committed entry (a snapshot counts with its own term); -1 when nothing is committed.</summary>
    ValueTask<long> TermOfLastCommittedAsync(CancellationToken token);
}

/// <summary>
/// When a barrier makes a read linearizable. On the leader, the barrier's round proves leadership and everything
/// committed is applied: done. On a follower the barrier only learns the leader's commit index, and right after an
/// election a new leader's commit index can still miss entries its predecessor committed: only a committed entry of the
/// current term proves it does not (Raft §8, a leader's no-op). So the barrier is repeated until the committed prefix
/// ends in the current term.
/// <para>
/// While the library names this node the leader without confirmed leadership, the rule waits instead of asking for a
/// barrier: DotNext 6.12's barrier loops without yielding while the named leader is local and the node is not in the
/// leader state, which holds a thread-pool thread for as long as the read may wait (and a deposed leader receives no
/// Raft message while it stops its old leader state, see docs/dotnext.md).
/// </para>
/// </summary>
public static class ReadRule
{
    /// <summary>Pause between two barriers while a new leader has not committed an entry of its term.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(5);

    public static async Task WaitAsync(IReadBarrier raft, TimeProvider time, CancellationToken token)
    {
        while (true)
        {
            if (raft.IsUnconfirmedLeader)
            {
                await Task.Delay(RetryDelay, time, token).ConfigureAwait(false);
                continue;
            }
            await raft.BarrierAsync(token).ConfigureAwait(false);
            if (raft.IsLeader) return;
            var term = raft.Term;
            if (await raft.TermOfLastCommittedAsync(token).ConfigureAwait(false) >= term) return;
            await Task.Delay(RetryDelay, time, token).ConfigureAwait(false);
        }
    }
}
