namespace RaftMall.StateMachine;

// A full check of every rule that ties the tables together. O(state): for tests and diagnostics, not the hot path
// (apply checks the cheap local rules as it goes).
public sealed partial class MallStateMachine
{
    /// <summary>Throws <see cref="InvariantViolationException"/> if any cross-table rule is broken.</summary>
    public void CheckInvariants()
    {
        var lockedBySku = new Dictionary<string, long>(StringComparer.Ordinal);
        var soldBySku = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < _orders.Count; i++)
        {
            var order = _orders[i];
            Require(order.OrderId == i + 1, "order ids are dense");
            Require(Enum.IsDefined(order.Status), "an order has exactly one known status");
            var bucket = order.Status switch
            {
                OrderStatus.Pending => lockedBySku,
                OrderStatus.Paid => soldBySku,
                _ => null,
            };
            if (bucket is null) continue;
            foreach (var item in order.Items) bucket[item.Sku] = bucket.GetValueOrDefault(item.Sku) + item.Quantity;
        }
        // Stock branches of transactions hold stock too: locked from their try until the decision, sold after a commit.
        // What committed stock branches sold is counted apart, because finished transactions are forgotten.
        foreach (var (sku, sold) in _soldByStockBranches) soldBySku[sku] = soldBySku.GetValueOrDefault(sku) + sold;
        var soldByKnownBranches = new Dictionary<string, long>(StringComparer.Ordinal);
        var heldOrders = new HashSet<long>();
        foreach (var txn in _transactions.Values)
        {
            foreach (var branch in txn.Branches)
            {
                if (branch.Vote != Vote.Yes) continue;
                if (branch.Spec.Kind == BranchKind.Order && !txn.IsDecided) heldOrders.Add(branch.OrderId);
                if (branch.Spec.Kind != BranchKind.Stock) continue;
                var bucket = !txn.IsDecided ? lockedBySku : txn.Decision == Decision.Commit ? soldByKnownBranches : null;
                if (bucket is null) continue;
                var item = branch.Spec.Items[0];
                bucket[item.Sku] = bucket.GetValueOrDefault(item.Sku) + item.Quantity;
            }
        }
        foreach (var (sku, sold) in soldByKnownBranches) Require(_soldByStockBranches.GetValueOrDefault(sku) >= sold, $"sku {sku}: stock branches sold at least what the remembered ones did");
        Require(heldOrders.SetEquals(_heldOrders), "the held orders are exactly the pending orders of undecided order branches");
        foreach (var id in heldOrders) Require(FindOrder(id) is { Status: OrderStatus.Pending }, "a held order is pending");
        foreach (var stock in _stock.Values)
        {
            Require(stock.Available >= 0 && stock.Locked >= 0 && stock.Sold >= 0, $"sku {stock.Sku}: no count is negative");
            Require(stock.Locked == lockedBySku.GetValueOrDefault(stock.Sku), $"sku {stock.Sku}: locked equals the pending orders' items");
            Require(stock.Sold == soldBySku.GetValueOrDefault(stock.Sku), $"sku {stock.Sku}: sold equals the paid orders' items");
        }
        foreach (var sku in lockedBySku.Keys) Require(_stock.ContainsKey(sku), "every ordered sku exists");

        var tokenOrders = new HashSet<long>();
        foreach (var token in _tokens.Values)
        {
            if (token.IsUsed) Require(tokenOrders.Add(token.UsedByOrderId), "a token places at most one order and an order uses at most one token");
        }

        var open = 0;
        foreach (var txn in _transactions.Values)
        {
            var allAcked = Array.TrueForAll(txn.Branches, b => b.Acknowledged);
            var expected = txn.Decision switch
            {
                Decision.None => TransactionStatus.Open,
                Decision.Commit => allAcked ? TransactionStatus.Committed : TransactionStatus.Committing,
                _ => allAcked ? TransactionStatus.Aborted : TransactionStatus.Aborting,
            };
            Require(txn.Status == expected, $"transaction {txn.Gid}: status follows the decision and acknowledgements");
            if (txn.Decision == Decision.Commit) Require(Array.TrueForAll(txn.Branches, b => b.Vote == Vote.Yes), "commit only with every vote yes");
            foreach (var branch in txn.Branches)
            {
                Require(txn.IsDecided || !branch.Acknowledged, $"transaction {txn.Gid}: no phase-2 acknowledgement before the decision");
                Require(!branch.Stuck || (txn.IsDecided && !branch.Acknowledged), $"transaction {txn.Gid}: only an outstanding phase-2 branch is stuck");
                Require(!branch.Spec.IsBuiltIn || !txn.IsDecided || branch.Acknowledged, $"transaction {txn.Gid}: built-in branches complete with the decision");
            }
            if (txn.Decision == Decision.None)
            {
                open++;
                Require(_openByDeadline.Contains((txn.DeadlineMs, txn.Gid)), "every open transaction has a deadline entry");
            }
        }
        Require(_finishedByAge.Count == _transactions.Count - _unfinished.Count && _finishedByAge.All(f => _transactions.TryGetValue(f.Gid, out var t) && t.IsFinished && t.FinishedAtMs == f.FinishedAtMs),
            "the finished index holds exactly the finished transactions");
        // One command may finish a batch's worth before the next command trims: the bound holds up to that.
        Require(_finishedByAge.Count <= MallLimits.MaxFinishedTransactions + MallLimits.MaxPhaseTwoBatch + MallLimits.MaxBatchCommands, "finished transactions stay within their bound");
        Require(_unfinished.Count == _transactions.Values.Count(t => !t.IsFinished) && _unfinished.All(g => !_transactions[g].IsFinished),
            "the unfinished index holds exactly the unfinished transactions");
        Require(open == _openByDeadline.Count, "the deadline index holds only open transactions");
        Require(_idempotency.Count == _idempotencyByAge.Count, "idempotency index and age queue agree");
        Require(_events.Count <= _events.RetainedEvents, "the outbox stays within its bound");
        Require(_consumers.Count <= MallLimits.MaxConsumers, "consumers stay within their bound");
        foreach (var consumer in _consumers.Values)
        {
            Require(consumer.Sequence >= 0 && consumer.Sequence <= LastEventSequence, "a consumer's position is an emitted event");
        }
        Require(_subscriptions.Count <= MallLimits.MaxSubscriptions, "subscriptions stay within their bound");
        foreach (var subscription in _subscriptions.Values)
        {
            Require(subscription.Position >= 0 && subscription.Position <= LastEventSequence, "a subscription's position is an emitted event");
            Require(subscription.SuspendedAt >= 0 && subscription.Generation >= 1 && subscription.Attempts >= 0, "a subscription's progress is well-formed");
        }
    }
}
