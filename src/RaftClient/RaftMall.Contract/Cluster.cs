namespace RaftMall.Contract;

// Answers of /api/cluster and /api/cluster/state-hash (docs/api.md).

/// <param name="Role">leader or follower, as the answering node knows; null when it knows no leader.</param>
public sealed record ClusterMember(string NodeId, string Address, string? Role);

public sealed record NodeStats(int Orders, int Skus, int Keys, long LastEventSequence, long SnapshotsTaken, long SnapshotsRestored, long FollowerFlushes, bool DurableFollowerAppends);

/// <param name="Role">leader, follower or candidate.</param>
/// <param name="ProcessId">The node's operating-system process id (lets a local tool tell its own node from another process on the port).</param>
public sealed record ClusterStatus(string NodeId, string Role, long Term, string? LeaderId, long CommitIndex, long AppliedIndex, long SnapshotIndex, ClusterMember[] Members, NodeStats Stats, int ProcessId);

/// <param name="Hash">A hash of the node's whole state (16 hex digits): equal on replicas that applied the same entries.</param>
public sealed record StateHash(string Hash, long AppliedIndex);
