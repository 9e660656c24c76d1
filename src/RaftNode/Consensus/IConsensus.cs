using RaftMall.StateMachine;

namespace RaftMall.Node.Consensus;

/// <summary>
/// What the node needs from consensus, in the node's words: propose a command and learn its fate, read linearizably,
/// know who leads. The API, the drivers, the dashboard and the demo see only this; <c>Consensus/Raft</c> implements it
/// with DotNext, and the in-process tests with a fake.
/// </summary>
public interface IConsensus
{
    /// <summary>The member this node knows as leader, or null during an election.</summary>
    ClusterNode? Leader { get; }

    /// <summary>True when this node is the leader (it may not have committed an entry of its term yet).</summary>
    bool IsLeader { get; }

    /// <summary>
    /// False when this node is cut off: it resigned as leader because no majority of the members answered it, and no
    /// majority has answered it since (this node counts for itself). Such a node cannot take part in an election, so it
    /// will not learn of a leader by waiting.
    /// </summary>
    bool ReachesMajority { get; }

    /// <summary>
    /// While this node leads and has committed an entry of its own term: a token cancelled when that leadership ends.
    /// Null otherwise. Work that only a leader may do (expiry, the coordinator) runs under it.
    /// </summary>
    CancellationToken? Leadership { get; }

    /// <summary>
    /// Completes at the next change of leader (an election started or a leader became known). Take it before reading
    /// <see cref="Leader"/>, so that a change in between is not missed.
    /// </summary>
    Task NextLeaderChange { get; }

    /// <summary>Appends <paramref name="command"/> as one log entry and waits until it is applied here.</summary>
    Task<ProposeOutcome> ProposeAsync(MallCommand command, CancellationToken token);

    /// <summary>
    /// Returns once this node's state reflects every write committed before the call, so a read of it is linearizable.
    /// Throws <see cref="NoQuorumException"/> when that cannot be known (no leader, leadership lost, the leader
    /// unreachable) before <paramref name="token"/> ends.
    /// </summary>
    Task ReadBarrierAsync(CancellationToken token);

    /// <summary>Role, term, leader and indexes as this node sees them now.</summary>
    ConsensusStatus Status();

    /// <summary>
    /// The members of the active configuration as this node knows it (this node included when it is one), each with
    /// its id: the member directory that forwarding, readiness, the status, the dashboard and CORS read. Empty on a
    /// node that waits to be added.
    /// </summary>
    IReadOnlyList<ClusterNode> Members { get; }

    /// <summary>
    /// On the leader: catches the node at <paramref name="address"/> up and adds it to the configuration (one change
    /// at a time).
    /// </summary>
    Task<MembershipOutcome> AddMemberAsync(Uri address, CancellationToken token);

    /// <summary>On the leader: removes the member at <paramref name="address"/> from the configuration.</summary>
    Task<MembershipOutcome> RemoveMemberAsync(Uri address, CancellationToken token);

    /// <summary>Gives up leadership (this node then follows); false when it was not leader.</summary>
    Task<bool> ResignAsync(CancellationToken token);
}

/// <summary>What became of a change of the configuration.</summary>
public abstract record MembershipOutcome
{
    /// <summary>Committed: the configuration changed (or already was as asked, when <paramref name="Changed"/> is false).</summary>
    public sealed record Done(bool Changed) : MembershipOutcome;

    /// <summary>This node is not leader: nothing changed.</summary>
    public sealed record NotLeader : MembershipOutcome;

    /// <summary>Another change is in progress: nothing changed; retry after it.</summary>
    public sealed record Busy : MembershipOutcome;

    /// <summary>The new member did not catch up with the log in the warm-up rounds: it was not added.</summary>
    public sealed record CatchUpFailed(string Reason) : MembershipOutcome;

    /// <summary>Leadership was lost or the wait ended while the change was under way: it may still commit.</summary>
    public sealed record Unknown(string Reason) : MembershipOutcome;
}

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

/// <summary>A node's view of consensus at one moment (the /api/cluster answer, readiness, the dashboard).</summary>
/// <param name="Role">leader, follower or candidate.</param>
/// <param name="AppliedIndex">The last entry applied to the state.</param>
/// <param name="SnapshotIndex">The entry the newest snapshot on disk reflects (0: none).</param>
/// <param name="FollowerFlushes">Flushes made for follower appends (durable follower appends).</param>
public sealed record ConsensusStatus(
    string Role, long Term, ClusterNode? Leader, long CommitIndex, long AppliedIndex, long SnapshotIndex,
    long SnapshotsTaken, long SnapshotsRestored, long FollowerFlushes, bool DurableFollowerAppends);

/// <summary>A linearizable read could not be served: no leader, no quorum, or leadership lost while it waited.</summary>
public sealed class NoQuorumException : Exception
{
    public NoQuorumException() { }
    public NoQuorumException(string message) : base(message) { }
    public NoQuorumException(string message, Exception inner) : base(message, inner) { }
}
