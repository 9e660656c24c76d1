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
    /// <param name="request">The transaction: mode, branches, and optionally its gid and timeout.</param>
    /// <param name="wait">What to wait for, at most the transaction's timeout plus 2 s and never over 60 s; each attempt may take that long on top of <see cref="RaftMallClientOptions.AttemptTimeout"/>.</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries; without a gid the node derives the gid from it.</param>
    /// <param name="token">Cancels the call, its retries included (not the transaction, which goes on).</param>
    /// <returns>The transaction as it stood when the wait ended; a gid in use throws <see cref="RaftMallConflictException"/> (409 <c>transaction_exists</c>).</returns>
    public async Task<GlobalTransaction> BeginTransactionAsync(TransactionRequest request, TransactionWait wait = TransactionWait.Decided, string? idempotencyKey = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = request;
        var path = "/api/transactions?wait=" + wait.ToString().ToLowerInvariant();
        // The node holds the answer for at most the transaction's timeout + 2 s, and never more than 60 s (api.md).
        var serverWait = wait == TransactionWait.None ? TimeSpan.Zero
            : TimeSpan.FromMilliseconds(Math.Min((request.TimeoutMs ?? 30_000) + 2_000, 60_000));
        return await ReadAsync<GlobalTransaction>(await SendAsync(HttpMethod.Post, path, body, idempotencyKey, token, serverWait: serverWait).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>Reads one transaction; an unknown or forgotten gid throws <see cref="RaftMallNotFoundException"/> (404 <c>transaction_not_found</c>).</summary>
    /// <param name="gid">The transaction's id.</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<GlobalTransaction> GetTransactionAsync(string gid, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<GlobalTransaction>(await SendAsync(HttpMethod.Get, $"/api/transactions/{Uri.EscapeDataString(gid)}?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Transactions by gid, optionally of one status and only those with stuck branches.</summary>
    /// <param name="status">Only transactions of this status (open, committing, aborting, committed or aborted); null for all.</param>
    /// <param name="stuckOnly">Only transactions with a branch flagged stuck.</param>
    /// <param name="after">Only gids after this one (ordinal); pass <see cref="TransactionPage.NextAfter"/> for the next page, null for the first.</param>
    /// <param name="limit">Most transactions on the page, 1..1,000.</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
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
    /// <param name="gid">The transaction's id; one not decided or already finished throws <see cref="RaftMallConflictException"/> (409 <c>transaction_not_decided</c> / <c>transaction_finished</c>).</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<GlobalTransaction> RetryTransactionAsync(string gid, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<GlobalTransaction>(await SendAsync(HttpMethod.Post, $"/api/transactions/{Uri.EscapeDataString(gid)}/retry", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
}
