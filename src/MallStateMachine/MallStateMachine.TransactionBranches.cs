namespace RaftMall.StateMachine;

// Transaction branches: their shape, the built-in resources (stock, order) tried and completed in the log itself,
// and the batched phase-2 progress of HTTP branches.
public sealed partial class MallStateMachine
{
    /// <summary>Orders placed by an order branch of a transaction that is not decided yet: only the transaction pays or cancels them.</summary>
    private readonly HashSet<long> _heldOrders = [];

    /// <summary>Per sku, what committed stock branches moved to sold (kept when their transactions are forgotten).</summary>
    private readonly Dictionary<string, long> _soldByStockBranches = new(StringComparer.Ordinal);

    /// <summary>
    /// Stock branch: locks the quantity (available → locked). Order branch: places a pending order that expires at the
    /// transaction's deadline (a timeout aborts it first). A missing sku or too little stock is a definite refusal.
    /// </summary>
    private TransactionBranch TryBuiltIn(string gid, long deadlineMs, TransactionBranch branch)
    {
        var items = branch.Spec.Items;
        foreach (var item in items)
        {
            if (!_stock.TryGetValue(item.Sku, out var stock)) return Refuse(branch, $"unknown_sku: {item.Sku}");
            if (stock.Available < item.Quantity) return Refuse(branch, $"insufficient_stock: sku {item.Sku}: {stock.Available} available, {item.Quantity} requested");
        }
        if (branch.Spec.Kind == BranchKind.Stock)
        {
            var stock = _stock[items[0].Sku];
            stock.Available -= items[0].Quantity;
            stock.Locked += items[0].Quantity;
            _events.Append(LogTimeMs, EventKind.StockLocked, 0, gid, stock.Sku, items[0].Quantity);
            return branch with { Vote = Vote.Yes, Attempts = 1 };
        }
        var order = PlaceChecked(branch.Spec.UserId, items, deadlineMs);
        _heldOrders.Add(order.OrderId);
        return branch with { Vote = Vote.Yes, Attempts = 1, OrderId = order.OrderId };
    }

    private static TransactionBranch Refuse(TransactionBranch branch, string error) =>
        branch with { Vote = Vote.No, Refused = true, Attempts = 1, LastError = error };

    /// <summary>Confirms (locked → sold, order paid) or cancels (locked → available, order cancelled) a tried built-in branch.</summary>
    private void CompleteBuiltIn(string gid, TransactionBranch branch, Decision decision)
    {
        if (branch.Vote != Vote.Yes) return; // refused or never tried: nothing was locked
        if (branch.Spec.Kind == BranchKind.Order)
        {
            Require(_heldOrders.Remove(branch.OrderId), "an order branch's order is held until the decision");
            var order = _orders[(int)(branch.OrderId - 1)];
            Close(order, decision == Decision.Commit ? OrderStatus.Paid : OrderStatus.Cancelled);
            return;
        }
        var item = branch.Spec.Items[0];
        var stock = _stock[item.Sku];
        stock.Locked -= item.Quantity;
        Require(stock.Locked >= 0, "locked stock is never negative");
        if (decision == Decision.Commit)
        {
            stock.Sold += item.Quantity;
            _soldByStockBranches[stock.Sku] = _soldByStockBranches.GetValueOrDefault(stock.Sku) + item.Quantity;
            _events.Append(LogTimeMs, EventKind.StockSold, 0, gid, item.Sku, item.Quantity);
        }
        else
        {
            stock.Available += item.Quantity;
            _events.Append(LogTimeMs, EventKind.StockReleased, 0, gid, item.Sku, item.Quantity);
        }
    }

    private MallResult ApplyPhaseTwo(RecordPhaseTwo c)
    {
        if (c.Items is null || c.Items.Length == 0 || c.Items.Length > MallLimits.MaxPhaseTwoBatch)
        {
            return Invalid($"a phase-2 record holds 1..{MallLimits.MaxPhaseTwoBatch} items");
        }
        // Check the whole batch first: a batch that breaks a rule changes nothing.
        foreach (var item in c.Items)
        {
            if (item.Phase is not (Decision.Commit or Decision.Abort)) return Invalid("a phase-2 record is for commit or abort");
            if (item.Error is null || item.Error.Length > MallLimits.MaxBranchErrorLength || item.Attempts < 0) return Invalid("a phase-2 error or attempt count is out of range");
            if (!_transactions.TryGetValue(item.Gid, out var txn)) return TransactionNotFound(item.Gid);
            var branch = Array.Find(txn.Branches, b => b.BranchId == item.BranchId);
            if (branch is null) return new Rejected(ErrorCode.BranchNotFound, $"no branch {item.BranchId} in {item.Gid}");
            if (!txn.IsDecided) return new Rejected(ErrorCode.TransactionNotDecided, $"transaction {item.Gid} is not decided yet: no phase-2 effect before the decision");
            if (txn.Decision != item.Phase)
            {
                return new Rejected(ErrorCode.PhaseMismatch,
                    $"transaction {item.Gid} was decided {DecisionName(txn.Decision)}; a {DecisionName(item.Phase)} of branch {item.BranchId} is refused");
            }
        }

        int acknowledged = 0, failed = 0, finished = 0;
        foreach (var item in c.Items)
        {
            var txn = _transactions[item.Gid];
            var index = Array.FindIndex(txn.Branches, b => b.BranchId == item.BranchId);
            var branch = txn.Branches[index];
            if (branch.Acknowledged) continue; // a replayed acknowledgement or a late failure report: nothing changes
            if (item.Done)
            {
                branch = branch with { Acknowledged = true, Attempts = Math.Max(branch.Attempts, item.Attempts), Stuck = false };
                _events.Append(LogTimeMs, EventKind.BranchAcknowledged, 0, item.Gid, detail: item.BranchId);
                acknowledged++;
            }
            else
            {
                if (item.Stuck && !branch.Stuck) _events.Append(LogTimeMs, EventKind.BranchStuck, 0, item.Gid, detail: item.BranchId + ": " + item.Error);
                else _events.Append(LogTimeMs, EventKind.BranchFailed, 0, item.Gid, detail: item.BranchId + ": " + item.Error);
                branch = branch with { Attempts = Math.Max(branch.Attempts, item.Attempts), LastError = item.Error, Stuck = item.Stuck };
                failed++;
            }
            txn = FinishIfDone(Store(txn with { Branches = Replace(txn.Branches, index, branch) }));
            if (txn.IsFinished) finished++;
        }
        return new PhaseTwoResult(acknowledged, failed, finished);
    }

    private static string? CheckBranch(BranchSpec branch, TransactionMode mode)
    {
        if (branch is null) return "a branch is required";
        if (Validation.CheckId(branch.BranchId, "branchId") is { } idError) return idError;
        if (branch.Urls is null || branch.Payload is null || branch.UserId is null || branch.Items is null) return "a branch has urls, payload, userId and items (possibly empty)";
        switch (branch.Kind)
        {
            case BranchKind.Http:
                if (branch.Urls.Length != 3) return "an http branch has a phase-1, a commit and an abort URL";
                var names = mode switch
                {
                    TransactionMode.Tcc => ("try", "confirm", "cancel"),
                    TransactionMode.TwoPhase => ("prepare", "commit", "rollback"),
                    _ => ("action", "", "compensate"),
                };
                if (CheckUrl(branch.Urls[0], names.Item1) is { } phase1Error) return phase1Error;
                if (CheckUrl(branch.Urls[2], names.Item3) is { } abortError) return abortError;
                if (mode == TransactionMode.Saga)
                {
                    if (branch.Urls[1] is not "") return "a saga branch has no commit URL";
                }
                else if (CheckUrl(branch.Urls[1], names.Item2) is { } commitError)
                {
                    return commitError;
                }
                if (branch.Payload.Length > MallLimits.MaxBranchPayloadLength) return $"branch payload is at most {MallLimits.MaxBranchPayloadLength} characters";
                if (branch.TimeoutMs < 0 || branch.TimeoutMs > MallLimits.MaxBranchTimeoutMs) return $"a branch timeout is 0..{MallLimits.MaxBranchTimeoutMs} ms";
                if (branch.UserId.Length != 0 || branch.Items.Length != 0) return "an http branch has no userId or items";
                return null;
            case BranchKind.Stock:
                if (branch.Items.Length != 1) return "a stock branch locks exactly one sku";
                return BuiltInShape(branch) ?? Validation.CheckItems(branch.Items);
            case BranchKind.Order:
                if (Validation.CheckId(branch.UserId, "userId") is { } userError) return userError;
                return BuiltInShape(branch) ?? Validation.CheckItems(branch.Items);
            default:
                return "a branch kind is http, stock or order";
        }
    }

    private static string? BuiltInShape(BranchSpec branch) =>
        branch.Urls.Length != 0 || branch.Payload.Length != 0 || branch.TimeoutMs != 0 ? "a built-in branch has no URLs, payload or timeout" : null;

    private static string? CheckUrl(string? url, string what)
    {
        if (string.IsNullOrEmpty(url) || url.Length > MallLimits.MaxUrlLength) return $"the {what} URL is required (at most {MallLimits.MaxUrlLength} characters)";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")) return $"the {what} URL must be an absolute http(s) URL";
        return null;
    }

    private static TransactionBranch[] Replace(TransactionBranch[] branches, int index, TransactionBranch branch)
    {
        var copy = (TransactionBranch[])branches.Clone();
        copy[index] = branch;
        return copy;
    }
}
