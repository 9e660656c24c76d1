namespace RaftMall.Node.Tests;

/// <summary>What must hold after faults, checked against every node.</summary>
public static class Checks
{
    /// <summary>Every acknowledged order id exists on every node (linearizable reads through each node).</summary>
    public static async Task AllAcknowledgedOrdersEverywhereAsync(TestCluster cluster, IEnumerable<long> acknowledged)
    {
        var expected = acknowledged.ToHashSet();
        foreach (var node in cluster.NodeIds.Where(cluster.IsRunning))
        {
            var present = await OrderIdsAsync(cluster, node);
            var missing = expected.Except(present).Order().ToList();
            Assert.True(missing.Count == 0, $"{node} is missing {missing.Count} acknowledged orders: {string.Join(',', missing.Take(20))}");
        }
    }

    public static async Task<HashSet<long>> OrderIdsAsync(TestCluster cluster, string node)
    {
        var ids = new HashSet<long>();
        long after = 0;
        while (true)
        {
            var page = await cluster.GetAsync<OrderPage>(node, $"/api/orders?after={after}&limit=1000");
            foreach (var order in page.Orders) ids.Add(order.OrderId);
            if (page.NextAfter is not { } next) return ids;
            after = next;
        }
    }

    /// <summary>All running nodes, once caught up, hold byte-identical state.</summary>
    public static async Task ReplicasEqualAsync(TestCluster cluster)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var hashes = new List<StateHash>();
            foreach (var node in cluster.NodeIds.Where(cluster.IsRunning))
            {
                hashes.Add(await cluster.GetAsync<StateHash>(node, "/api/cluster/state-hash"));
            }
            if (hashes.Select(h => h.Hash).Distinct().Count() == 1) return;
            Assert.True(DateTime.UtcNow < deadline, "replicas differ: " + string.Join(", ", hashes.Select(h => $"{h.Hash}@{h.AppliedIndex}")));
            await Task.Delay(200);
        }
    }

    /// <summary>available + locked + sold equals what was set, on every node, and locked equals the pending orders' items.</summary>
    public static async Task StockConservedAsync(TestCluster cluster, string sku, long total)
    {
        foreach (var node in cluster.NodeIds.Where(cluster.IsRunning))
        {
            var stock = await cluster.GetAsync<StockLevel>(node, $"/api/stock/{sku}");
            Assert.Equal(total, stock.Available + stock.Locked + stock.Sold);
            Assert.True(stock.Available >= 0 && stock.Locked >= 0 && stock.Sold >= 0);
        }
    }
}

