namespace RaftMall.StateMachine;

public enum TransactionMode : byte
{
    Tcc = 0,
    TwoPhase = 1,
    Saga = 2,
}

public enum TransactionStatus : byte
{
    /// <summary>Phase 1: branches are being asked to try/prepare/act.</summary>
    Open = 0,
    /// <summary>Decided commit; phase 2 acknowledgements outstanding.</summary>
    Committing = 1,
    /// <summary>Decided abort; phase 2 acknowledgements outstanding.</summary>
    Aborting = 2,
    Committed = 3,
    Aborted = 4,
}

public enum Decision : byte
{
    None = 0,
    Commit = 1,
    Abort = 2,
}

public enum Vote : byte
{
    Pending = 0,
    Yes = 1,
    No = 2,
}

/// <summary>What a branch is: an HTTP participant, or a resource of this state machine applied in the log itself.</summary>
public enum BranchKind : byte
{
    Http = 0,
    /// <summary>Locks a quantity of one sku at try; sold at commit, available again at abort.</summary>
    Stock = 1,
    /// <summary>Places a pending order (locking its stock) at try; paid at commit, cancelled at abort.</summary>
    Order = 2,
}

/// <summary>A branch as declared when a transaction begins or a branch registers.</summary>
/// <param name="Urls">Http only: [phase 1, commit, abort] — tcc try/confirm/cancel, 2pc prepare/commit/rollback,
/// saga action/""/compensate. Empty for built-in kinds.</param>
/// <param name="Payload">Http only: the JSON body sent with every call (opaque here).</param>
/// <param name="TimeoutMs">Http only: the timeout of each call to this participant (0 = the node's default).</param>
/// <param name="UserId">Order only: the order's user.</param>
/// <param name="Items">Stock: exactly one item (the sku and quantity to lock); order: the order's items.</param>
public sealed record BranchSpec(string BranchId, BranchKind Kind, string[] Urls, string Payload, long TimeoutMs, string UserId, OrderItem[] Items)
{
    public static BranchSpec Http(string branchId, string phase1Url, string commitUrl, string abortUrl, string payload = "{}", long timeoutMs = 0) =>
        new(branchId, BranchKind.Http, [phase1Url, commitUrl, abortUrl], payload, timeoutMs, "", []);

    public static BranchSpec Stock(string branchId, string sku, int quantity) =>
        new(branchId, BranchKind.Stock, [], "", 0, "", [new OrderItem(sku, quantity)]);

    public static BranchSpec Order(string branchId, string userId, OrderItem[] items) =>
        new(branchId, BranchKind.Order, [], "", 0, userId, items);

    public bool IsBuiltIn => Kind != BranchKind.Http;
}

/// <summary>
/// One participant of a global transaction. <see cref="Attempts"/> counts the calls of the current phase's operation
/// as recorded in the log (phase 1 at the decision; phase 2 with each recorded failure or acknowledgement).
/// </summary>
/// <param name="Refused">The phase-1 "no" was a definite refusal (the participant did nothing), not an unknown outcome.</param>
/// <param name="Stuck">Phase 2 has failed at least the configured number of times; still retried.</param>
/// <param name="OrderId">Order branches: the order placed at try (0 otherwise).</param>
public sealed record TransactionBranch(BranchSpec Spec, Vote Vote, bool Refused, bool Acknowledged, int Attempts, string LastError, bool Stuck, long OrderId)
{
    public string BranchId => Spec.BranchId;

    public static TransactionBranch New(BranchSpec spec) => new(spec, Vote.Pending, false, false, 0, "", false, 0);
}

/// <summary>A global transaction (2PC, TCC or saga) as it stood at one applied index.</summary>
public sealed record GlobalTransaction(
    string Gid,
    TransactionMode Mode,
    TransactionStatus Status,
    Decision Decision,
    string DecisionReason,
    long BeganAtMs,
    long DeadlineMs,
    long DecidedAtMs,
    TransactionBranch[] Branches)
{
    public bool IsDecided => Decision != Decision.None;

    public bool IsFinished => Status is TransactionStatus.Committed or TransactionStatus.Aborted;

    /// <summary>Log time at which phase 2 completed (0 while unfinished); the transaction is forgotten a retention period later.</summary>
    public long FinishedAtMs { get; init; }
}

/// <summary>A phase-1 outcome carried by the decision.</summary>
/// <param name="Refused">A definite business refusal (the participant did nothing), as opposed to an unknown outcome.</param>
public readonly record struct BranchVote(string BranchId, Vote Vote, bool Refused, int Attempts, string Error);

/// <summary>
/// Phase-2 progress of one branch: an acknowledgement (<see cref="Done"/>) or a failed attempt with its error.
/// <see cref="Phase"/> is the decision the call carried out, so apply can refuse a confirm after an abort.
/// </summary>
public readonly record struct BranchProgress(string Gid, string BranchId, Decision Phase, bool Done, int Attempts, string Error, bool Stuck);

/// <summary>Per (transaction, branch) TCC barrier states.</summary>
public enum BarrierState : byte
{
    Tried = 1,
    Confirmed = 2,
    Cancelled = 3,
    /// <summary>A cancel arrived before any try: recorded so that a late try is refused.</summary>
    EmptyRollback = 4,
}

public enum BarrierOperation : byte
{
    Try = 1,
    Confirm = 2,
    Cancel = 3,
}
