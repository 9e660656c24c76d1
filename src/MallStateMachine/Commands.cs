namespace RaftMall.StateMachine;

/// <summary>
/// A change to the mall state. The node that proposes it stamps <see cref="TimeMs"/> (its clock, Unix ms)
/// and ids or randomness; apply never reads a clock, so every replica computes the same state.
/// </summary>
public abstract record MallCommand
{
    /// <summary>The proposing leader's time. Apply uses max(previous log time, this), so log time never goes back.</summary>
    public long TimeMs { get; init; }

    /// <summary>Exactly-once key: a repeat returns the first result and changes nothing.</summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>Sets the available count of a sku (creating it); locked and sold stay as they are.</summary>
public sealed record SetStock(string Sku, long Available) : MallCommand;

/// <summary>Issues an order submit token; the proposer generates the random token value.</summary>
public sealed record IssueToken(string Token, string UserId, long ExpiresAtMs) : MallCommand;

/// <summary>Places an order: consumes the token (when given) and locks stock of every item, or does nothing.</summary>
public sealed record PlaceOrder(string UserId, string? Token, OrderItem[] Items, long TtlMs) : MallCommand;

/// <summary>Pays a pending order: its locked stock becomes sold.</summary>
public sealed record PayOrder(long OrderId) : MallCommand;

/// <summary>Cancels a pending order: its locked stock becomes available again.</summary>
public sealed record CancelOrder(long OrderId) : MallCommand;

/// <summary>
/// The leader's periodic tick: expires pending orders whose deadline passed (releasing their stock),
/// aborts undecided transactions past their timeout, and forgets expired submit tokens.
/// </summary>
public sealed record ExpireDue : MallCommand;

/// <summary>Puts a value; with <see cref="ExpectedRevision"/> only if the key's revision matches (0 = key must not exist).</summary>
public sealed record KvPut(string Key, string Value, long? ExpectedRevision) : MallCommand;

/// <summary>Deletes a key; with <see cref="ExpectedRevision"/> only if its revision matches.</summary>
public sealed record KvDelete(string Key, long? ExpectedRevision) : MallCommand;

/// <summary>A branch as declared when a transaction begins or a branch registers.</summary>
/// <param name="Resource">What the branch is: an HTTP participant URL set or a built-in resource name. Opaque here.</param>
/// <param name="Payload">Opaque data for the participant (JSON in practice).</param>
public readonly record struct BranchSpec(string BranchId, string Resource, string Payload);

/// <summary>Begins a global transaction with a timeout and its initial branches.</summary>
public sealed record BeginTransaction(string Gid, TransactionMode Mode, long TimeoutMs, BranchSpec[] Branches) : MallCommand;

/// <summary>Adds a branch to an undecided transaction.</summary>
public sealed record RegisterBranch(string Gid, BranchSpec Branch) : MallCommand;

/// <summary>Records a branch's phase-1 vote (2PC prepare result, TCC try result, saga action result).</summary>
public sealed record RecordVote(string Gid, string BranchId, Vote Vote) : MallCommand;

/// <summary>Decides commit or abort, exactly once. Commit needs a yes vote from every branch.</summary>
public sealed record DecideTransaction(string Gid, Decision Decision, string Reason) : MallCommand;

/// <summary>Records a branch's phase-2 acknowledgement (confirm/commit or cancel/rollback done).</summary>
public sealed record AcknowledgeBranch(string Gid, string BranchId) : MallCommand;

/// <summary>A TCC barrier operation for (transaction, branch): idempotent, empty rollback, anti-hanging.</summary>
public sealed record TccBarrier(string Gid, string BranchId, BarrierOperation Operation) : MallCommand;
