using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaftMall.Contract;

// Global transactions (docs/api.md, "Global transactions"): request and answer bodies.

/// <summary>
/// One branch of a new transaction. Build it with the factories: an HTTP participant per mode, or a built-in
/// resource of RaftMall (a stock lock, an order). Which fields apply depends on <see cref="Kind"/> and the mode.
/// </summary>
public sealed record TransactionBranchRequest
{
    /// <summary>The branch's id, unique in the transaction (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</summary>
    public string? BranchId { get; init; }

    /// <summary>http (a participant called over HTTP), stock (a stock lock) or order (a pending order).</summary>
    public string? Kind { get; init; }

    /// <summary>http, tcc: the URL called to try (reserve): absolute http(s), at most 2,048 characters like every participant URL.</summary>
    public string? Try { get; init; }

    /// <summary>http, tcc: the URL called to confirm after a commit decision.</summary>
    public string? Confirm { get; init; }

    /// <summary>http, tcc: the URL called to cancel after an abort decision (also for a try it never saw).</summary>
    public string? Cancel { get; init; }

    /// <summary>http, 2pc: the URL called to prepare (vote).</summary>
    public string? Prepare { get; init; }

    /// <summary>http, 2pc: the URL called to commit after a commit decision.</summary>
    public string? Commit { get; init; }

    /// <summary>http, 2pc: the URL called to roll back after an abort decision.</summary>
    public string? Rollback { get; init; }

    /// <summary>http, saga: the URL called to perform the step.</summary>
    public string? Action { get; init; }

    /// <summary>http, saga: the URL called to undo the step when the saga aborts.</summary>
    public string? Compensate { get; init; }

    /// <summary>http: the JSON body of every call to the participant, at most 16,384 characters (<c>{}</c> when null).</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>http: the timeout of one participant call in ms, 0..600,000 (null or 0: the cluster's <c>txnCallTimeoutMs</c>, 5,000 by default).</summary>
    public long? TimeoutMs { get; init; }

    /// <summary>stock: the sku to lock.</summary>
    public string? Sku { get; init; }

    /// <summary>stock: the units of <see cref="Sku"/> to lock.</summary>
    public int? Quantity { get; init; }

    /// <summary>order: the user the order is placed for.</summary>
    public string? UserId { get; init; }

    /// <summary>order: the order's lines (1..50, each sku at most once).</summary>
    public OrderItemRequest[]? Items { get; init; }

    /// <summary>An HTTP branch of a TCC transaction: try, then confirm on commit or cancel on abort.</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="tryUrl">Called in phase 1 to reserve; a 409 or 422 (or another 4xx) refuses and aborts the transaction.</param>
    /// <param name="confirmUrl">Called after a commit decision, until it answers 2xx.</param>
    /// <param name="cancelUrl">Called after an abort decision, until it answers 2xx (also when the try never arrived).</param>
    /// <param name="payload">The JSON body of every call (<c>{}</c> when null).</param>
    /// <param name="timeoutMs">The timeout of one call in ms, 0..600,000 (null or 0: the cluster's <c>txnCallTimeoutMs</c>, 5,000 by default).</param>
    public static TransactionBranchRequest Tcc(string branchId, string tryUrl, string confirmUrl, string cancelUrl, JsonElement? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Try = tryUrl, Confirm = confirmUrl, Cancel = cancelUrl, Payload = payload, TimeoutMs = timeoutMs };

    /// <summary>As the other overload, with any object as the payload (serialized by reflection: not for native AOT).</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="tryUrl">Called in phase 1 to reserve.</param>
    /// <param name="confirmUrl">Called after a commit decision.</param>
    /// <param name="cancelUrl">Called after an abort decision.</param>
    /// <param name="payload">The JSON body of every call: any object, serialized with the web defaults (camelCase).</param>
    /// <param name="timeoutMs">The timeout of one call in ms, 0..600,000 (null or 0: the cluster's <c>txnCallTimeoutMs</c>, 5,000 by default).</param>
    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    public static TransactionBranchRequest Tcc(string branchId, string tryUrl, string confirmUrl, string cancelUrl, object payload, long? timeoutMs = null) =>
        Tcc(branchId, tryUrl, confirmUrl, cancelUrl, ToJson(payload), timeoutMs);

    /// <summary>An HTTP branch of a two-phase-commit transaction: prepare, then commit or roll back as decided.</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="prepareUrl">Called in phase 1 to vote; a 409 or 422 (or another 4xx) votes no and aborts the transaction.</param>
    /// <param name="commitUrl">Called after a commit decision, until it answers 2xx.</param>
    /// <param name="rollbackUrl">Called after an abort decision, until it answers 2xx (also when the prepare never arrived).</param>
    /// <param name="payload">The JSON body of every call (<c>{}</c> when null).</param>
    /// <param name="timeoutMs">The timeout of one call in ms, 0..600,000 (null or 0: the cluster's <c>txnCallTimeoutMs</c>, 5,000 by default).</param>
    public static TransactionBranchRequest TwoPhase(string branchId, string prepareUrl, string commitUrl, string rollbackUrl, JsonElement? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Prepare = prepareUrl, Commit = commitUrl, Rollback = rollbackUrl, Payload = payload, TimeoutMs = timeoutMs };

    /// <summary>As the other overload, with any object as the payload (serialized by reflection: not for native AOT).</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="prepareUrl">Called in phase 1 to vote.</param>
    /// <param name="commitUrl">Called after a commit decision.</param>
    /// <param name="rollbackUrl">Called after an abort decision.</param>
    /// <param name="payload">The JSON body of every call: any object, serialized with the web defaults (camelCase).</param>
    /// <param name="timeoutMs">The timeout of one call in ms, 0..600,000 (null or 0: the cluster's <c>txnCallTimeoutMs</c>, 5,000 by default).</param>
    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    public static TransactionBranchRequest TwoPhase(string branchId, string prepareUrl, string commitUrl, string rollbackUrl, object payload, long? timeoutMs = null) =>
        TwoPhase(branchId, prepareUrl, commitUrl, rollbackUrl, ToJson(payload), timeoutMs);

    /// <summary>An HTTP step of a saga: the action in order, compensated in reverse order if the saga aborts.</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="actionUrl">Called to perform the step; a 409 or 422 (or another 4xx) refuses and aborts the saga (a refused step is not compensated).</param>
    /// <param name="compensateUrl">Called when the saga aborts after the step, until it answers 2xx.</param>
    /// <param name="payload">The JSON body of every call (<c>{}</c> when null).</param>
    /// <param name="timeoutMs">The timeout of one call in ms, 0..600,000 (null or 0: the cluster's <c>txnCallTimeoutMs</c>, 5,000 by default).</param>
    public static TransactionBranchRequest Saga(string branchId, string actionUrl, string compensateUrl, JsonElement? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Action = actionUrl, Compensate = compensateUrl, Payload = payload, TimeoutMs = timeoutMs };

    /// <summary>As the other overload, with any object as the payload (serialized by reflection: not for native AOT).</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="actionUrl">Called to perform the step.</param>
    /// <param name="compensateUrl">Called when the saga aborts after the step.</param>
    /// <param name="payload">The JSON body of every call: any object, serialized with the web defaults (camelCase).</param>
    /// <param name="timeoutMs">The timeout of one call in ms, 0..600,000 (null or 0: the cluster's <c>txnCallTimeoutMs</c>, 5,000 by default).</param>
    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    public static TransactionBranchRequest Saga(string branchId, string actionUrl, string compensateUrl, object payload, long? timeoutMs = null) =>
        Saga(branchId, actionUrl, compensateUrl, ToJson(payload), timeoutMs);

    /// <summary>Locks <paramref name="quantity"/> of <paramref name="sku"/> at try; sold at commit, released at abort.</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="sku">The sku; an unknown one (404 <c>unknown_sku</c>) or too little available (409 <c>insufficient_stock</c>) aborts the transaction at once.</param>
    /// <param name="quantity">Units to lock.</param>
    public static TransactionBranchRequest Stock(string branchId, string sku, int quantity) => new() { BranchId = branchId, Kind = "stock", Sku = sku, Quantity = quantity };

    /// <summary>Places a pending order at try (locking its stock); paid at commit, cancelled at abort.</summary>
    /// <param name="branchId">The branch's id, unique in the transaction.</param>
    /// <param name="userId">The user the order is placed for.</param>
    /// <param name="items">The order's lines (1..50, each sku at most once).</param>
    public static TransactionBranchRequest Order(string branchId, string userId, params OrderLine[] items) =>
        new() { BranchId = branchId, Kind = "order", UserId = userId, Items = [.. items.Select(i => i.ToRequest())] };

    private const string ReflectionPayload = "the payload is serialized by reflection; pass a JsonElement under trimming or native AOT";

    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    private static JsonElement ToJson(object payload) => payload as JsonElement? ?? JsonSerializer.SerializeToElement(payload, JsonSerializerOptions.Web);
}

/// <summary>The body of <c>POST /api/transactions</c>: begins a global transaction.</summary>
/// <param name="Mode">tcc, 2pc or saga.</param>
/// <param name="Branches">The branches, at most 32, with ids unique in the transaction (required; see <see cref="TransactionBranchRequest"/>).</param>
/// <param name="Gid">The transaction id; null lets the node choose one.</param>
/// <param name="TimeoutMs">Phase 1's deadline from the begin (30 s when null).</param>
public sealed record TransactionRequest(string? Mode, TransactionBranchRequest[]? Branches, string? Gid = null, long? TimeoutMs = null);

/// <summary>One branch of a transaction as the cluster records it.</summary>
/// <param name="BranchId">The branch's id within the transaction.</param>
/// <param name="Kind">http, stock or order.</param>
/// <param name="State">pending, tried, failed, confirming, confirmed, cancelling, cancelled or skipped.</param>
/// <param name="Attempts">Calls of the current phase's operation as recorded in the log (phase-1 counts restart on a new leader).</param>
/// <param name="LastError">The last failure of a call to the branch (at most 512 characters); null when there is none.</param>
/// <param name="Stuck">Whether phase 2 failed <c>txnStuckAfterAttempts</c> times (10 by default); it is still retried, at the capped interval.</param>
/// <param name="OrderId">For an order branch: the order it placed; null otherwise or before it did.</param>
public sealed record TransactionBranchView(string BranchId, string Kind, string State, int Attempts, string? LastError, bool Stuck, long? OrderId);

/// <summary>A global transaction as the cluster records it: the answer of the transaction endpoints.</summary>
/// <param name="Gid">The transaction's id.</param>
/// <param name="Mode">tcc, 2pc or saga.</param>
/// <param name="Status">open, committing, aborting, committed or aborted.</param>
/// <param name="Decision">commit or abort; null until decided (a decision never changes).</param>
/// <param name="Reason">Why it was decided so (e.g. every branch succeeded, timeout, or the refusal of a branch); null until decided.</param>
/// <param name="BeganAt">When the transaction began (the log time of its begin entry), ISO 8601 UTC.</param>
/// <param name="Deadline">Phase 1's deadline (<paramref name="BeganAt"/> plus the request's timeoutMs): undecided then, it aborts for timeout; ISO 8601 UTC.</param>
/// <param name="DecidedAt">When the decision entered the log, ISO 8601 UTC; null until decided.</param>
/// <param name="Branches">The branches, in the order of the request.</param>
public sealed record GlobalTransaction(
    string Gid, string Mode, string Status, string? Decision, string? Reason, DateTimeOffset BeganAt, DateTimeOffset Deadline,
    DateTimeOffset? DecidedAt, TransactionBranchView[] Branches)
{
    /// <summary>Whether the decision is in the log (<see cref="Decision"/> is set); phase 2 may still be outstanding.</summary>
    [JsonIgnore]
    public bool IsDecided => Decision is not null;

    /// <summary>Whether phase 2 is done too: <see cref="Status"/> is committed or aborted.</summary>
    [JsonIgnore]
    public bool IsFinished => Status is "committed" or "aborted";
}

/// <summary>One page of <c>GET /api/transactions</c>, by gid.</summary>
/// <param name="Transactions">The transactions of the page, by ascending gid (ordinal).</param>
/// <param name="NextAfter">The <c>after</c> of the next page (the last gid of this one); null when this page is not full, so it is the last.</param>
public sealed record TransactionPage(GlobalTransaction[] Transactions, string? NextAfter);
