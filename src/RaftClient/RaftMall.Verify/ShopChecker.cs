using RaftMall.Client;

namespace RaftMall.Verify;

/// <summary>The final state of one node, read after the cluster settled.</summary>
public sealed record NodeState(string Node, IReadOnlyList<Order> Orders, IReadOnlyList<StockLevel> Stock, string StateHash);

/// <summary>
/// Shop invariants over the history and every node's final state: acknowledged orders exist with a status that agrees
/// with the acknowledged pay/cancel calls; at most one order per logical place (idempotency keys applied once);
/// no token places two orders; stock is conserved per sku; short-ttl orders expired; replicas are identical.
/// </summary>
public static class ShopChecker
{
    public static List<string> Check(IReadOnlyList<Operation> history, IReadOnlyList<NodeState> nodes, IReadOnlyDictionary<string, long> initialStock,
        string run, long checkTimeNs)
    {
        var violations = new List<string>();
        var places = history.Where(o => o.Kind == Kinds.Place).ToList();
        var acked = places.Where(o => o.Outcome == Outcome.Ok && o.OrderId is not null).ToList();
        var paid = history.Where(o => o.Kind == Kinds.Pay && o.Outcome == Outcome.Ok).Select(o => o.OrderId!.Value).ToHashSet();
        var cancelled = history.Where(o => o.Kind == Kinds.Cancel && o.Outcome == Outcome.Ok).Select(o => o.OrderId!.Value).ToHashSet();
        var maybePaid = history.Where(o => o.Kind == Kinds.Pay && o.Outcome == Outcome.Unknown).Select(o => o.OrderId!.Value).ToHashSet();
        var maybeCancelled = history.Where(o => o.Kind == Kinds.Cancel && o.Outcome == Outcome.Unknown).Select(o => o.OrderId!.Value).ToHashSet();

        // A token places at most one order: two acknowledged places with one token must name the same order.
        foreach (var group in acked.Where(o => o.Value is not null).GroupBy(o => o.Value!))
        {
            var ids = group.Select(o => o.OrderId!.Value).Distinct().ToList();
            if (ids.Count > 1) violations.Add($"token {group.Key} placed orders {string.Join(", ", ids)}");
        }

        foreach (var node in nodes)
        {
            var byId = node.Orders.ToDictionary(o => o.OrderId);
            foreach (var op in acked)
            {
                if (!byId.TryGetValue(op.OrderId!.Value, out var order))
                {
                    violations.Add($"{node.Node}: acknowledged order {op.OrderId} ({op.Detail}) is missing");
                    continue;
                }
                var user = op.Detail!.Split(' ')[0];
                if (order.UserId != user) violations.Add($"{node.Node}: order {order.OrderId} belongs to {order.UserId}, acknowledged for {user}");
                var id = order.OrderId;
                var expected = paid.Contains(id) ? "paid" : cancelled.Contains(id) ? "cancelled" : null;
                if (expected is not null && order.Status != expected)
                {
                    violations.Add($"{node.Node}: order {id} is {order.Status} but its {expected} was acknowledged");
                }
                if (expected is null && order.Status == "paid" && !maybePaid.Contains(id)) violations.Add($"{node.Node}: order {id} is paid without a pay");
                if (expected is null && order.Status == "cancelled" && !maybeCancelled.Contains(id)) violations.Add($"{node.Node}: order {id} is cancelled without a cancel");
                var ttlSeconds = int.Parse(op.Detail!.Split("ttl=")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                var due = op.CompleteNs + ((ttlSeconds + 3) * 1_000_000_000L);
                if (order.Status == "pending" && ttlSeconds == Workload.ShortTtlSeconds && due < checkTimeNs)
                {
                    violations.Add($"{node.Node}: order {id} with a {ttlSeconds} s ttl is still pending long after it was due");
                }
            }

            // One order per logical place: users are unique per place, so a second order of a user means a retried
            // request applied twice.
            foreach (var group in node.Orders.Where(o => o.UserId.StartsWith(run + "-", StringComparison.Ordinal)).GroupBy(o => o.UserId))
            {
                if (group.Count() > 1) violations.Add($"{node.Node}: user {group.Key} has orders {string.Join(", ", group.Select(o => o.OrderId))}: a request applied twice");
            }

            foreach (var (sku, initial) in initialStock)
            {
                var level = node.Stock.FirstOrDefault(s => s.Sku == sku);
                if (level is null)
                {
                    violations.Add($"{node.Node}: sku {sku} is missing");
                    continue;
                }
                var locked = node.Orders.Where(o => o.Status == "pending").SelectMany(o => o.Items).Where(i => i.Sku == sku).Sum(i => (long)i.Quantity);
                var sold = node.Orders.Where(o => o.Status == "paid").SelectMany(o => o.Items).Where(i => i.Sku == sku).Sum(i => (long)i.Quantity);
                if (level.Total != initial || level.Locked != locked || level.Sold != sold || level.Available < 0)
                {
                    violations.Add($"{node.Node}: sku {sku} is {level.Available}+{level.Locked}+{level.Sold} (set {initial}; pending orders lock {locked}, paid orders sold {sold})");
                }
            }
        }

        if (nodes.Select(n => n.StateHash).Distinct().Count() > 1)
        {
            violations.Add("replicas differ: " + string.Join(", ", nodes.Select(n => $"{n.Node}={n.StateHash}")));
        }
        return violations;
    }
}
