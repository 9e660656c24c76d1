namespace RaftMall.Contract;

// Answers of /api/cluster and /api/cluster/state-hash (docs/api.md).

/// <summary>A member of the cluster's active configuration, with its role as the answering node sees it.</summary>
/// <param name="NodeId">The member's id (e.g. n1), as the member itself names it; its address until the answering node has learned it.</param>
/// <param name="Address">The member's base address (e.g. http://127.0.0.1:7101).</param>
/// <param name="Role">leader or follower, as the answering node knows; null when it knows no leader.</param>
public sealed record ClusterMember(string NodeId, string Address, string? Role)
{
    /// <summary>
    /// The member id the replicated member directory binds to this address (node identity, docs/operations.md); null
    /// until the leader has bound it. Peers refuse Raft requests from this address under another member id.
    /// </summary>
    public string? MemberId { get; init; }
}

/// <summary>Counts of the answering node: its replicated state as it has applied it, and its own snapshots and flushes since it started.</summary>
/// <param name="Orders">Orders in the state, of every status.</param>
/// <param name="Skus">Skus in the state.</param>
/// <param name="Keys">Keys in the key-value store.</param>
/// <param name="LastEventSequence">Sequence of the newest event in the outbox (0 when there is none).</param>
/// <param name="SnapshotsTaken">Snapshots this node wrote since its process started.</param>
/// <param name="SnapshotsRestored">Snapshots this node loaded since its process started (at start or installed from the leader).</param>
/// <param name="FollowerFlushes">Flushes of the log this node made for appends it received as a follower since its process started (0 when <paramref name="DurableFollowerAppends"/> is off).</param>
/// <param name="DurableFollowerAppends">Whether this node flushes appended entries to disk before acknowledging them to the leader (cluster.yml <c>durableFollowerAppends</c>).</param>
public sealed record NodeStats(int Orders, int Skus, int Keys, long LastEventSequence, long SnapshotsTaken, long SnapshotsRestored, long FollowerFlushes, bool DurableFollowerAppends);

/// <summary>One node's view of the cluster at one moment: the answer of <c>GET /api/cluster</c>.</summary>
/// <param name="NodeId">The answering node's id.</param>
/// <param name="Role">leader, follower or candidate.</param>
/// <param name="Term">The node's current Raft term.</param>
/// <param name="LeaderId">The id of the leader the node knows; null when it knows none (e.g. during an election).</param>
/// <param name="CommitIndex">The index of the last log entry the node knows committed.</param>
/// <param name="AppliedIndex">The index of the last log entry the node applied to its state.</param>
/// <param name="SnapshotIndex">The log index the node's newest snapshot on disk reflects (0 when it has none).</param>
/// <param name="Members">Every member of the active configuration as the answering node knows it (empty on a node that waits to be added).</param>
/// <param name="Stats">Counts of the node's state, snapshots and flushes.</param>
/// <param name="ProcessId">The node's operating-system process id (lets a local tool tell its own node from another process on the port).</param>
public sealed record ClusterStatus(string NodeId, string Role, long Term, string? LeaderId, long CommitIndex, long AppliedIndex, long SnapshotIndex, ClusterMember[] Members, NodeStats Stats, int ProcessId)
{
    /// <summary>The cluster id of the answering node's data directory; null while it waits to be added (it has no identity yet).</summary>
    public string? ClusterId { get; init; }

    /// <summary>The answering node's own member id (its data directory's); null while it waits to be added.</summary>
    public string? MemberId { get; init; }
}

/// <summary>The answer of <c>GET /api/cluster/state-hash</c>: a fingerprint of one node's state for comparing replicas.</summary>
/// <param name="Hash">A hash of the node's whole state (16 hex digits): equal on replicas that applied the same entries.</param>
/// <param name="AppliedIndex">The index of the last log entry applied to the state the hash was taken of.</param>
public sealed record StateHash(string Hash, long AppliedIndex);

/// <summary>
/// The answer of <c>GET /api/cluster/state-checks</c>: the hashes this node took of its whole state at the log's
/// check points (the leader proposes one every <c>stateCheckIntervalMs</c>), newest last. Every replica hashes at the
/// same indexes, so at an index two nodes both hold the hashes must be equal; a difference is a replica that applied
/// something else, and the first differing index says from where.
/// </summary>
/// <param name="Checks">Each check: the hash and the index of the check's entry (the hash covers every entry before it).</param>
public sealed record StateChecks(IReadOnlyList<StateHash> Checks);

/// <summary>The body of <c>POST /api/cluster/members</c>: the node to add.</summary>
/// <param name="Address">The new node's base address (e.g. http://127.0.0.1:7104); the node must run and wait to be added.</param>
public sealed record MemberRequest(string? Address);

/// <summary>The answer of <c>/api/cluster/members</c>: the active configuration as the answering node knows it.</summary>
/// <param name="LeaderId">The leader's id; null when the answering node knows none.</param>
/// <param name="Members">Every member, with its role.</param>
/// <param name="Changed">On a change: false when the configuration already was as asked (the member was there, or was not); null on a read.</param>
public sealed record MemberList(string? LeaderId, ClusterMember[] Members, bool? Changed);
