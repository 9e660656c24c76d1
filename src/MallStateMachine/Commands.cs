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

/// <summary>
/// Begins a global transaction with a timeout and its branches. Built-in branches (stock, order) are tried in this
/// same entry; when one of them refuses, the transaction is decided abort here too.
/// </summary>
public sealed record BeginTransaction(string Gid, TransactionMode Mode, long TimeoutMs, BranchSpec[] Branches) : MallCommand;

/// <summary>Adds a branch to an undecided transaction.</summary>
public sealed record RegisterBranch(string Gid, BranchSpec Branch) : MallCommand;

/// <summary>Records one branch's phase-1 vote (2PC prepare result, TCC try result, saga action result).</summary>
public sealed record RecordVote(string Gid, string BranchId, Vote Vote) : MallCommand;

/// <summary>
/// Decides commit or abort, exactly once, recording the phase-1 outcomes in <see cref="Votes"/> in the same entry.
/// Commit needs a yes vote from every branch and a log time before the deadline (otherwise it becomes an abort for
/// timeout). Built-in branches are confirmed or cancelled in this entry, after the decision.
/// </summary>
public sealed record DecideTransaction(string Gid, Decision Decision, string Reason, BranchVote[] Votes) : MallCommand
{
    public DecideTransaction(string gid, Decision decision, string reason) : this(gid, decision, reason, []) { }
}

/// <summary>Phase-2 acknowledgements and failed attempts of many branches of many transactions, in one entry.</summary>
public sealed record RecordPhaseTwo(BranchProgress[] Items) : MallCommand;

/// <summary>
/// Several commands applied in order in one log entry, each with the batch's time and its own idempotency key (if
/// any): the coordinator's decisions and phase-2 records of many transactions, or the client writes that arrived
/// while the previous entry replicated, cost one replication round.
/// </summary>
public sealed record CommandBatch(MallCommand[] Commands) : MallCommand;

/// <summary>An operator's "retry now": clears the stuck flags of a decided transaction's outstanding branches.</summary>
public sealed record RetryTransaction(string Gid) : MallCommand;

/// <summary>A TCC barrier operation for (transaction, branch): idempotent, empty rollback, anti-hanging.</summary>
public sealed record TccBarrier(string Gid, string BranchId, BarrierOperation Operation) : MallCommand;

/// <summary>
/// Publishes an application message (the local message table's row): committed as a <c>message</c> event with a
/// gap-free sequence, readable by pull consumers. <see cref="Payload"/> is JSON text.
/// </summary>
public sealed record PublishMessage(string Topic, string? Key, string Payload) : MallCommand;

/// <summary>
/// Places an order and, only when it is placed, publishes its message in the same entry: both or neither. The message
/// event carries the new order's id, which the client cannot know beforehand.
/// </summary>
public sealed record PlaceOrderWithMessage(string UserId, string? Token, OrderItem[] Items, long TtlMs, string Topic, string? Key, string Payload) : MallCommand
{
    /// <summary>The order part, as a plain <see cref="PlaceOrder"/>.</summary>
    public PlaceOrder ToPlaceOrder() => new(UserId, Token, Items, TtlMs);
}

/// <summary>A pull consumer acknowledges every event up to <see cref="Sequence"/>; its position only moves forward.</summary>
public sealed record AckConsumer(string Consumer, long Sequence) : MallCommand;

/// <summary>An operator sets a consumer's position anywhere up to the newest event: to replay, or to skip events lost past the outbox's retention knowingly.</summary>
public sealed record MoveConsumer(string Consumer, long Sequence) : MallCommand;

/// <summary>An operator forgets a consumer and its position.</summary>
public sealed record DeleteConsumer(string Consumer) : MallCommand;

/// <summary>
/// Creates a push subscription that the leader delivers from after <see cref="StartAfter"/> (null: after the newest
/// event). Creating it again with the same settings changes nothing; other settings under its name are refused.
/// </summary>
public sealed record CreateSubscription(SubscriptionSpec Spec, long? StartAfter) : MallCommand;

/// <summary>The leader's acknowledged positions and failed attempts of many subscriptions, in one entry (batched, not one entry per delivery).</summary>
public sealed record RecordSubscriptionProgress(SubscriptionProgress[] Items) : MallCommand;

/// <summary>An operator's "retry now" of a stuck subscription: attempts and the stuck flag are cleared, and the leader calls it at once.</summary>
public sealed record RetrySubscription(string Name) : MallCommand;

/// <summary>An operator resumes a subscription (suspended, stuck or not) from a position: delivery continues after <see cref="Position"/>.</summary>
public sealed record ResumeSubscription(string Name, long Position) : MallCommand;

/// <summary>An operator drops a subscription and its position.</summary>
public sealed record DeleteSubscription(string Name) : MallCommand;

/// <summary>
/// Binds a member id to a member's address in the replicated member directory (node identity): peers refuse Raft
/// requests that come from that address under another member id, or that are meant for another member id there. A
/// later binding of the same address replaces the earlier one (a member replaced at its old address).
/// </summary>
public sealed record BindMember(string Address, string MemberId) : MallCommand;

/// <summary>
/// A point in the log at which every replica hashes its whole state (the leader proposes one every
/// <c>stateCheckIntervalMs</c>). It changes nothing in the state, not even the log time; the hashes, kept by each node and compared by
/// <c>raftmall verify</c> or an operator, must be equal at equal indexes, so a replica that applied something else
/// shows where it started to differ.
/// </summary>
public sealed record CheckState : MallCommand;
