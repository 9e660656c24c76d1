namespace RaftMall.Client;

// Global transactions (api.md, "Global transactions").
public sealed partial class RaftMallClient
{
    /// <summary>
    /// Begins a global transaction. <paramref name="wait"/>: none (answer at once), decided (the default: the decision is
    /// in the log) or finished (every branch acknowledged); the answer is the transaction as far as it got.
    /// </summary>
    public async Task<TransactionView> BeginTransactionAsync(BeginTransaction request, string wait = "decided", string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<TransactionView>(await SendAsync(HttpMethod.Post, $"/api/transactions?wait={Uri.EscapeDataString(wait)}", request, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<TransactionView> GetTransactionAsync(string gid, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<TransactionView>(await SendAsync(HttpMethod.Get, $"/api/transactions/{Uri.EscapeDataString(gid)}?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<TransactionPage> ListTransactionsAsync(string? status = null, bool stuck = false, string? after = null, int limit = 100, CancellationToken token = default)
    {
        var query = $"limit={limit}";
        if (status is not null) query += "&status=" + Uri.EscapeDataString(status);
        if (stuck) query += "&stuck=true";
        if (after is not null) query += "&after=" + Uri.EscapeDataString(after);
        return await ReadAsync<TransactionPage>(await SendAsync(HttpMethod.Get, "/api/transactions?" + query, null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>Operator: calls the transaction's outstanding phase-2 branches again now.</summary>
    public async Task<TransactionView> RetryTransactionAsync(string gid, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<TransactionView>(await SendAsync(HttpMethod.Post, $"/api/transactions/{Uri.EscapeDataString(gid)}/retry", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
}
