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

/// <summary>The body of POST /api/transactions: mode tcc, 2pc or saga; timeout in milliseconds (null: the cluster's default).</summary>
public sealed record BeginTransaction(string? Gid, string Mode, long? TimeoutMs, TransactionBranch[] Branches);

/// <summary>One branch of a new transaction: an HTTP participant (kind http) or a built-in resource (stock, order).</summary>
public sealed record TransactionBranch(string BranchId, string Kind)
{
    public string? Try { get; init; }
    public string? Confirm { get; init; }
    public string? Cancel { get; init; }
    public object? Payload { get; init; }
    public long? TimeoutMs { get; init; }
    public string? Sku { get; init; }
    public int? Quantity { get; init; }
    public string? UserId { get; init; }
    public OrderLine[]? Items { get; init; }

    public static TransactionBranch Tcc(string branchId, string tryUrl, string confirmUrl, string cancelUrl, object payload, long? timeoutMs = null) =>
        new(branchId, "http") { Try = tryUrl, Confirm = confirmUrl, Cancel = cancelUrl, Payload = payload, TimeoutMs = timeoutMs };

    public static TransactionBranch Stock(string branchId, string sku, int quantity) => new(branchId, "stock") { Sku = sku, Quantity = quantity };

    public static TransactionBranch Order(string branchId, string userId, params OrderLine[] items) => new(branchId, "order") { UserId = userId, Items = items };
}

public sealed record TransactionBranchView(string BranchId, string Kind, string State, int Attempts, string? LastError, bool Stuck, long? OrderId);

/// <summary>A transaction: status open, committing, aborting, committed or aborted; decision commit or abort once decided.</summary>
public sealed record TransactionView(string Gid, string Mode, string Status, string? Decision, string? Reason, DateTimeOffset BeganAt, DateTimeOffset Deadline,
    DateTimeOffset? DecidedAt, TransactionBranchView[] Branches)
{
    public bool IsFinished => Status is "committed" or "aborted";
}

public sealed record TransactionPage(TransactionView[] Transactions, string? NextAfter);
