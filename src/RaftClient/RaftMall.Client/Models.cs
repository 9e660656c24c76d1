namespace RaftMall.Client;

// The API's bodies as the client sees them (api.md).

public sealed record StockLevel(string Sku, long Available, long Locked, long Sold)
{
    public long Total => Available + Locked + Sold;
}

public sealed record SubmitToken(string Token, string UserId, DateTimeOffset ExpiresAt);

public sealed record OrderLine(string Sku, int Quantity);

public sealed record Order(long OrderId, string UserId, string Status, OrderLine[] Items, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset UpdatedAt);

public sealed record OrderPage(Order[] Orders, long? NextAfter);

public sealed record KvEntry(string Key, string Value, long Revision);

public sealed record MallEvent(string Id, long Sequence, string Type, DateTimeOffset At, long? OrderId, string? Subject, string? Sku, long? Quantity, string? Detail);

public sealed record EventPage(MallEvent[] Events, long LastSequence, long FirstRetainedSequence);

public sealed record ClusterMember(string NodeId, string Address, string? Role);

public sealed record NodeStats(int Orders, int Skus, int Keys, long LastEventSequence, long SnapshotsTaken, long SnapshotsRestored, long FollowerFlushes, bool DurableFollowerAppends);

/// <param name="ProcessId">The node's operating-system process id (lets a local tool tell its own node from another process on the port).</param>
public sealed record ClusterStatus(string NodeId, string Role, long Term, string? LeaderId, long CommitIndex, long AppliedIndex, long SnapshotIndex, ClusterMember[] Members, NodeStats Stats, int ProcessId);

public sealed record StateHash(string Hash, long AppliedIndex);

/// <summary>An RFC 7807 problem body with RaftMall's machine-readable code.</summary>
public sealed record ProblemBody(int? Status, string? Title, string? Detail, string? Code);
