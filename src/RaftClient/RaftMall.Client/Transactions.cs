using System.Text.Json;

namespace RaftMall.Client;

// Global transactions (api.md, "Global transactions"): request and answer bodies as the client sees them.

/// <summary>
/// One branch of a new transaction. Build it with the factories: an HTTP participant per mode, or a built-in
/// resource of RaftMall (a stock lock, an order).
/// </summary>
public sealed record TransactionBranchRequest
{
    public required string BranchId { get; init; }
    public required string Kind { get; init; }
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
    public OrderLine[]? Items { get; init; }

    public static TransactionBranchRequest Tcc(string branchId, string tryUrl, string confirmUrl, string cancelUrl, object? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Try = tryUrl, Confirm = confirmUrl, Cancel = cancelUrl, Payload = ToJson(payload), TimeoutMs = timeoutMs };

    public static TransactionBranchRequest TwoPhase(string branchId, string prepareUrl, string commitUrl, string rollbackUrl, object? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Prepare = prepareUrl, Commit = commitUrl, Rollback = rollbackUrl, Payload = ToJson(payload), TimeoutMs = timeoutMs };

    public static TransactionBranchRequest Saga(string branchId, string actionUrl, string compensateUrl, object? payload = null, long? timeoutMs = null) =>
        new() { BranchId = branchId, Kind = "http", Action = actionUrl, Compensate = compensateUrl, Payload = ToJson(payload), TimeoutMs = timeoutMs };

    /// <summary>Locks <paramref name="quantity"/> of <paramref name="sku"/> at try; sold at commit, released at abort.</summary>
    public static TransactionBranchRequest Stock(string branchId, string sku, int quantity) => new() { BranchId = branchId, Kind = "stock", Sku = sku, Quantity = quantity };

    /// <summary>Places a pending order at try (locking its stock); paid at commit, cancelled at abort.</summary>
    public static TransactionBranchRequest Order(string branchId, string userId, params OrderLine[] items) => new() { BranchId = branchId, Kind = "order", UserId = userId, Items = items };

    private static JsonElement? ToJson(object? payload) => payload is null ? null : JsonSerializer.SerializeToElement(payload, JsonSerializerOptions.Web);
}

/// <param name="Mode">tcc, 2pc or saga.</param>
/// <param name="Gid">The transaction id; null lets the node choose one.</param>
public sealed record TransactionRequest(string Mode, TransactionBranchRequest[] Branches, string? Gid = null, long? TimeoutMs = null);

/// <param name="State">pending, tried, failed, confirming, confirmed, cancelling, cancelled or skipped.</param>
public sealed record TransactionBranchView(string BranchId, string Kind, string State, int Attempts, string? LastError, bool Stuck, long? OrderId);

/// <param name="Status">open, committing, aborting, committed or aborted.</param>
public sealed record GlobalTransaction(
    string Gid, string Mode, string Status, string? Decision, string? Reason, DateTimeOffset BeganAt, DateTimeOffset Deadline,
    DateTimeOffset? DecidedAt, TransactionBranchView[] Branches)
{
    public bool IsDecided => Decision is not null;

    public bool IsFinished => Status is "committed" or "aborted";
}

public sealed record TransactionPage(GlobalTransaction[] Transactions, string? NextAfter);

/// <summary>How long <see cref="RaftMallClient.BeginTransactionAsync"/> waits for the transaction.</summary>
public enum TransactionWait
{
    /// <summary>Answer once the transaction is begun (phase 1 goes on).</summary>
    None,
    /// <summary>Answer once the decision is in the log (or at the transaction's timeout).</summary>
    Decided,
    /// <summary>Answer once phase 2 is done too (or at the transaction's timeout).</summary>
    Finished,
}

public sealed partial class RaftMallClient
{
    /// <summary>Begins a global transaction and waits as <paramref name="wait"/> says; the answer may be undecided when the wait ran out.</summary>
    public async Task<GlobalTransaction> BeginTransactionAsync(TransactionRequest request, TransactionWait wait = TransactionWait.Decided, string? idempotencyKey = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new { request.Gid, request.Mode, request.TimeoutMs, request.Branches };
        var path = "/api/transactions?wait=" + wait.ToString().ToLowerInvariant();
        return await ReadAsync<GlobalTransaction>(await SendAsync(HttpMethod.Post, path, body, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    public async Task<GlobalTransaction> GetTransactionAsync(string gid, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<GlobalTransaction>(await SendAsync(HttpMethod.Get, $"/api/transactions/{Uri.EscapeDataString(gid)}?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Transactions by gid, optionally of one status and only those with stuck branches.</summary>
    public async Task<TransactionPage> ListTransactionsAsync(string? status = null, bool stuckOnly = false, string? after = null, int limit = 100,
        ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default)
    {
        var query = $"limit={limit}&{Query(consistency)}";
        if (status is not null) query += "&status=" + Uri.EscapeDataString(status);
        if (stuckOnly) query += "&stuck=true";
        if (after is not null) query += "&after=" + Uri.EscapeDataString(after);
        return await ReadAsync<TransactionPage>(await SendAsync(HttpMethod.Get, "/api/transactions?" + query, null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>Operator: calls the transaction's outstanding phase-2 branches again now.</summary>
    public async Task<GlobalTransaction> RetryTransactionAsync(string gid, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<GlobalTransaction>(await SendAsync(HttpMethod.Post, $"/api/transactions/{Uri.EscapeDataString(gid)}/retry", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
}
