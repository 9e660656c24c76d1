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
    public string? BranchId { get; init; }
    public string? Kind { get; init; }
    public string? Try { get; init; }
    public string? Confirm { get; init; }
    public string? Cancel { get; init; }
    public string? Prepare { get; init; }
    public string? Commit { get; init; }
    public string? Rollback { get; init; }
    public string? Action { get; init; }
    public string? Compensate { get; init; }
    public JsonElement? Payload { get; init; }
    public long? TimeoutMs { get; init; }
    public string? Sku { get; init; }
    public int? Quantity { get; init; }
    public string? UserId { get; init; }
    public OrderItemRequest[]? Items { get; init; }

    public static TransactionBranchRequest Tcc(string branchId, string tryUrl, string confirmUrl, string cancelUrl, JsonElement? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Try = tryUrl, Confirm = confirmUrl, Cancel = cancelUrl, Payload = payload, TimeoutMs = timeoutMs };

    /// <summary>As the other overload, with any object as the payload (serialized by reflection: not for native AOT).</summary>
    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    public static TransactionBranchRequest Tcc(string branchId, string tryUrl, string confirmUrl, string cancelUrl, object payload, long? timeoutMs = null) =>
        Tcc(branchId, tryUrl, confirmUrl, cancelUrl, ToJson(payload), timeoutMs);

    public static TransactionBranchRequest TwoPhase(string branchId, string prepareUrl, string commitUrl, string rollbackUrl, JsonElement? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Prepare = prepareUrl, Commit = commitUrl, Rollback = rollbackUrl, Payload = payload, TimeoutMs = timeoutMs };

    /// <summary>As the other overload, with any object as the payload (serialized by reflection: not for native AOT).</summary>
    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    public static TransactionBranchRequest TwoPhase(string branchId, string prepareUrl, string commitUrl, string rollbackUrl, object payload, long? timeoutMs = null) =>
        TwoPhase(branchId, prepareUrl, commitUrl, rollbackUrl, ToJson(payload), timeoutMs);

    public static TransactionBranchRequest Saga(string branchId, string actionUrl, string compensateUrl, JsonElement? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Action = actionUrl, Compensate = compensateUrl, Payload = payload, TimeoutMs = timeoutMs };

    /// <summary>As the other overload, with any object as the payload (serialized by reflection: not for native AOT).</summary>
    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    public static TransactionBranchRequest Saga(string branchId, string actionUrl, string compensateUrl, object payload, long? timeoutMs = null) =>
        Saga(branchId, actionUrl, compensateUrl, ToJson(payload), timeoutMs);

    /// <summary>Locks <paramref name="quantity"/> of <paramref name="sku"/> at try; sold at commit, released at abort.</summary>
    public static TransactionBranchRequest Stock(string branchId, string sku, int quantity) => new() { BranchId = branchId, Kind = "stock", Sku = sku, Quantity = quantity };

    /// <summary>Places a pending order at try (locking its stock); paid at commit, cancelled at abort.</summary>
    public static TransactionBranchRequest Order(string branchId, string userId, params OrderLine[] items) =>
        new() { BranchId = branchId, Kind = "order", UserId = userId, Items = [.. items.Select(i => i.ToRequest())] };

    private const string ReflectionPayload = "the payload is serialized by reflection; pass a JsonElement under trimming or native AOT";

    [RequiresUnreferencedCode(ReflectionPayload), RequiresDynamicCode(ReflectionPayload)]
    private static JsonElement ToJson(object payload) => payload as JsonElement? ?? JsonSerializer.SerializeToElement(payload, JsonSerializerOptions.Web);
}

/// <param name="Mode">tcc, 2pc or saga.</param>
/// <param name="Gid">The transaction id; null lets the node choose one.</param>
/// <param name="TimeoutMs">Phase 1's deadline from the begin (30 s when null).</param>
public sealed record TransactionRequest(string? Mode, TransactionBranchRequest[]? Branches, string? Gid = null, long? TimeoutMs = null);

/// <param name="State">pending, tried, failed, confirming, confirmed, cancelling, cancelled or skipped.</param>
public sealed record TransactionBranchView(string BranchId, string Kind, string State, int Attempts, string? LastError, bool Stuck, long? OrderId);

/// <param name="Status">open, committing, aborting, committed or aborted.</param>
public sealed record GlobalTransaction(
    string Gid, string Mode, string Status, string? Decision, string? Reason, DateTimeOffset BeganAt, DateTimeOffset Deadline,
    DateTimeOffset? DecidedAt, TransactionBranchView[] Branches)
{
    [JsonIgnore]
    public bool IsDecided => Decision is not null;

    [JsonIgnore]
    public bool IsFinished => Status is "committed" or "aborted";
}

public sealed record TransactionPage(GlobalTransaction[] Transactions, string? NextAfter);
