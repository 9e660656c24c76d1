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
/// </summary>
public static class ReadRule
{
    /// <summary>Pause between two barriers while a new leader has not committed an entry of its term.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(5);

    public static async Task WaitAsync(IReadBarrier raft, TimeProvider time, CancellationToken token)
    {
        while (true)
        {
            await raft.BarrierAsync(token).ConfigureAwait(false);
            if (raft.IsLeader) return;
            var term = raft.Term;
            if (await raft.TermOfLastCommittedAsync(token).ConfigureAwait(false) >= term) return;
            await Task.Delay(RetryDelay, time, token).ConfigureAwait(false);
        }
    }
}
