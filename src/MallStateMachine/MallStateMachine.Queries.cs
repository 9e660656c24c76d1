namespace RaftMall.StateMachine;

// Reads. They return copies or immutable records, never the live mutable state.
public sealed partial class MallStateMachine
{
    public StockLevel? GetStock(string sku) => _stock.TryGetValue(sku, out var counts) ? counts.ToLevel() : null;

    /// <summary>All skus, ordered by sku (ordinal).</summary>
    public List<StockLevel> ListStock()
    {
        var list = new List<StockLevel>(_stock.Count);
        foreach (var counts in _stock.Values) list.Add(counts.ToLevel());
        list.Sort((a, b) => string.CompareOrdinal(a.Sku, b.Sku));
        return list;
    }

    public Order? GetOrder(long orderId) => FindOrder(orderId);

    public int OrderCount => _orders.Count;

    /// <summary>Orders with id greater than <paramref name="afterOrderId"/>, ascending, filtered by user and status.</summary>
    public List<Order> ListOrders(string? userId, OrderStatus? status, long afterOrderId, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var page = new List<Order>(Math.Min(limit, 1024));
        if (userId is not null)
        {
            if (!_orderIdsByUser.TryGetValue(userId, out var ids)) return page;
            var start = ids.BinarySearch(afterOrderId + 1);
            for (var i = start < 0 ? ~start : start; i < ids.Count && page.Count < limit; i++)
            {
                var order = _orders[(int)(ids[i] - 1)];
                if (status is null || order.Status == status) page.Add(order);
            }
            return page;
        }
        for (var id = Math.Max(afterOrderId, 0) + 1; id <= _orders.Count && page.Count < limit; id++)
        {
            var order = _orders[(int)(id - 1)];
            if (status is null || order.Status == status) page.Add(order);
        }
        return page;
    }

    /// <summary>True when the token is known (not yet forgotten after expiry) and has placed an order.</summary>
    public bool IsTokenUsed(string token) => _tokens.TryGetValue(token, out var t) && t.IsUsed;

    public int TokenCount => _tokens.Count;

    public KvEntry? GetKv(string key) => _kv.TryGetValue(key, out var entry) ? entry : null;

    public int KvCount => _kv.Count;

    public GlobalTransaction? GetTransaction(string gid) => _transactions.TryGetValue(gid, out var txn) ? txn : null;

    /// <summary>Transactions ordered by gid (ordinal), after <paramref name="afterGid"/>, filtered by status and stuck branches.</summary>
    public List<GlobalTransaction> ListTransactions(TransactionStatus? status, string? afterGid, int limit, bool stuckOnly = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var matches = new List<GlobalTransaction>();
        // Stuck and unfinished transactions are few: scan only those when the filter allows it.
        IEnumerable<string> gids = stuckOnly || status is TransactionStatus.Open or TransactionStatus.Committing or TransactionStatus.Aborting
            ? _unfinished
            : _transactions.Keys;
        foreach (var gid in gids)
        {
            var txn = _transactions[gid];
            if ((status is null || txn.Status == status) && (afterGid is null || string.CompareOrdinal(txn.Gid, afterGid) > 0)
                && (!stuckOnly || Array.Exists(txn.Branches, b => b.Stuck)))
            {
                matches.Add(txn);
            }
        }
        matches.Sort((a, b) => string.CompareOrdinal(a.Gid, b.Gid));
        return matches.Count > limit ? matches.GetRange(0, limit) : matches;
    }

    /// <summary>
    /// Unfinished transactions by status, the finished ones still retained, and the stuck branches of unfinished ones
    /// (for metrics: scans only the unfinished, which are few).
    /// </summary>
    public TransactionTally TallyTransactions()
    {
        int open = 0, committing = 0, aborting = 0, stuck = 0;
        foreach (var gid in _unfinished)
        {
            var txn = _transactions[gid];
            switch (txn.Status)
            {
                case TransactionStatus.Open: open++; break;
                case TransactionStatus.Committing: committing++; break;
                case TransactionStatus.Aborting: aborting++; break;
            }
            foreach (var branch in txn.Branches) if (branch.Stuck) stuck++;
        }
        return new TransactionTally(open, committing, aborting, _transactions.Count - _unfinished.Count, stuck);
    }

    /// <summary>Ids of every transaction not finished yet (undecided, or decided with phase 2 outstanding): what a new leader resumes.</summary>
    public List<string> UnfinishedTransactionIds() => [.. _unfinished];

    public BarrierState? GetBarrier(string gid, string branchId) => _barriers.TryGetValue((gid, branchId), out var s) ? s : null;

    /// <summary>
    /// The earliest log time at which <see cref="ExpireDue"/> would change something (an order, token or transaction
    /// deadline), or null when nothing is pending. Lets the leader propose a tick only when one is needed.
    /// </summary>
    public long? NextDueAtMs()
    {
        long? due = null;
        if (_orderExpiry.TryPeek(out _, out var order)) due = order.ExpiresAtMs;
        if (_tokenExpiry.TryPeek(out _, out var token) && (due is null || token.ExpiresAtMs < due)) due = token.ExpiresAtMs;
        if (_openByDeadline.Count > 0 && (due is null || _openByDeadline.Min.DeadlineMs < due)) due = _openByDeadline.Min.DeadlineMs;
        return due;
    }

    public List<MallEvent> ReadEvents(long afterSequence, int limit) => _events.Read(afterSequence, limit);

    /// <summary>Sequence of the newest event (0 when none).</summary>
    public long LastEventSequence => _events.NextSequence - 1;

    public long FirstRetainedEventSequence => _events.FirstRetainedSequence;
}

/// <summary>What <see cref="MallStateMachine.TallyTransactions"/> counts.</summary>
public readonly record struct TransactionTally(int Open, int Committing, int Aborting, int FinishedRetained, int StuckBranches);
