using RaftMall.Contract;

namespace RaftMall.Client;

// Global transactions (api.md, "Global transactions"): request and answer bodies as the client sees them.

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
        var body = request;
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
