using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace RaftMall.Node.ContainerTests;

/// <summary>
/// A 3-node cluster of the node image in containers on one docker network: election, orders, a SIGKILLed leader
/// container, and a leader cut off from the network. Skipped, with the reason, where no Docker engine is reachable.
/// </summary>
public class ContainerClusterTests(ITestOutputHelper output)
{
    private const string Sku = "apple";
    private const long StockTotal = 1_000_000;

    [DockerFact]
    public async Task One_leader_is_elected_and_orders_placed_through_every_node_are_read_back_from_every_node()
    {
        await using var cluster = await ContainerCluster.StartAsync(output);
        var leader = await cluster.WaitForLeaderAsync();
        var statuses = (await Task.WhenAll(cluster.NodeIds.Select(cluster.StatusAsync))).Select(s => s!).ToList();
        Assert.Single(statuses, s => s.Role == "leader");
        Assert.All(statuses, s => Assert.Equal(leader, s.LeaderId));
        Assert.Single(statuses.Select(s => s.Term).Distinct());

        var follower = cluster.NodeIds.First(id => id != leader);
        using (var put = await cluster.SendAsync(HttpMethod.Put, follower, $"/api/stock/{Sku}", new { available = 10 }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        var placed = new List<Order>();
        foreach (var node in cluster.NodeIds) // a follower forwards the write to the leader by its container name
        {
            using var response = await cluster.SendAsync(HttpMethod.Post, node, "/api/orders",
                new { userId = $"user-of-{node}", items = new[] { new { sku = Sku, quantity = 2 } } });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            placed.Add((await response.Content.ReadFromJsonAsync<Order>(ContainerCluster.Json))!);
        }

        foreach (var node in cluster.NodeIds)
        {
            foreach (var order in placed)
            {
                var read = await cluster.GetAsync<Order>(node, $"/api/orders/{order.OrderId}");
                Assert.Equal((order.UserId, "pending", Sku, 2), (read.UserId, read.Status, read.Items.Single().Sku, read.Items.Single().Quantity));
            }
            Assert.Equal(new StockLevel(Sku, 4, 6, 0), await cluster.GetAsync<StockLevel>(node, $"/api/stock/{Sku}"));
        }
        await AssertReplicasEqualAsync(cluster);
    }

    [DockerFact]
    public async Task Killing_the_leader_container_loses_no_acknowledged_order_and_the_restarted_container_catches_up()
    {
        await using var cluster = await ContainerCluster.StartAsync(output);
        var oldLeader = await cluster.WaitForLeaderAsync();
        await SetStockAsync(cluster, oldLeader);

        var clock = Stopwatch.StartNew();
        var writers = Enumerable.Range(0, 4).Select(i => new OrderWriter(cluster, $"w{i}")).ToArray();
        var stopAt = TimeSpan.FromSeconds(5);
        var load = writers.Select(async w =>
        {
            while (clock.Elapsed < stopAt) await w.PlaceAsync(Sku, clock, TimeSpan.FromSeconds(15));
        }).ToArray();

        await Task.Delay(1_500);
        var killedAt = clock.Elapsed;
        await cluster.KillAsync(oldLeader);
        var newLeader = await cluster.WaitForLeaderAsync(not: oldLeader);
        cluster.Log($"{newLeader} leads {(clock.Elapsed - killedAt).TotalMilliseconds:F0} ms after the kill");
        await Task.WhenAll(load);

        var acknowledged = writers.SelectMany(w => w.Acknowledged).ToList();
        Assert.Contains(acknowledged, a => a.At < killedAt);
        var firstAfterKill = acknowledged.Where(a => a.At > killedAt).Min(a => a.At);
        cluster.Log($"{acknowledged.Count} orders acknowledged; the first after the kill {(firstAfterKill - killedAt).TotalMilliseconds:F0} ms after it");
        Assert.Contains(acknowledged, a => a.At > killedAt + TimeSpan.FromSeconds(1)); // writes go on after the failover

        await cluster.StartAsync(oldLeader);
        await cluster.WaitForLeaderAsync();
        await AssertAllOrdersEverywhereAsync(cluster, acknowledged.Select(a => a.OrderId));
        await AssertReplicasEqualAsync(cluster);
        await AssertStockConservedAsync(cluster);
    }

    [DockerFact]
    public async Task A_leader_cut_off_from_the_network_is_replaced_by_the_majority_and_follows_it_after_reconnecting()
    {
        await using var cluster = await ContainerCluster.StartAsync(output);
        var oldLeader = await cluster.WaitForLeaderAsync();
        await SetStockAsync(cluster, oldLeader);
        var clock = Stopwatch.StartNew();
        var writer = new OrderWriter(cluster, "partition");
        for (var i = 0; i < 20; i++) Assert.NotNull(await writer.PlaceAsync(Sku, clock, TimeSpan.FromSeconds(10)));

        await cluster.DisconnectAsync(oldLeader);
        var cutAt = clock.Elapsed;
        var newLeader = await cluster.WaitForLeaderAsync(not: oldLeader);
        cluster.Log($"the majority elected {newLeader} {(clock.Elapsed - cutAt).TotalMilliseconds:F0} ms after the cut");
        for (var i = 0; i < 20; i++) Assert.NotNull(await writer.PlaceAsync(Sku, clock, TimeSpan.FromSeconds(10)));

        await cluster.ConnectAsync(oldLeader);
        var leader = await cluster.WaitForLeaderAsync();
        Assert.NotEqual(oldLeader, leader); // its log lacks what the majority committed: it cannot win an election
        var rejoined = (await cluster.StatusAsync(oldLeader))!;
        Assert.Equal(("follower", leader), (rejoined.Role, rejoined.LeaderId));
        await AssertAllOrdersEverywhereAsync(cluster, writer.Acknowledged.Select(a => a.OrderId));
        await AssertReplicasEqualAsync(cluster);
        await AssertStockConservedAsync(cluster);
    }

    private static async Task SetStockAsync(ContainerCluster cluster, string node)
    {
        using var response = await cluster.SendAsync(HttpMethod.Put, node, $"/api/stock/{Sku}", new { available = StockTotal });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Every acknowledged order is on every node (linearizable reads through each node's own port).</summary>
    private static async Task AssertAllOrdersEverywhereAsync(ContainerCluster cluster, IEnumerable<long> acknowledged)
    {
        var expected = acknowledged.ToHashSet();
        foreach (var node in cluster.NodeIds)
        {
            var present = new HashSet<long>();
            long after = 0;
            while (true)
            {
                var page = await cluster.GetAsync<OrderPage>(node, $"/api/orders?after={after}&limit=1000");
                present.UnionWith(page.Orders.Select(o => o.OrderId));
                if (page.NextAfter is not { } next) break;
                after = next;
            }
            var missing = expected.Except(present).Order().ToList();
            Assert.True(missing.Count == 0, $"{node} is missing {missing.Count} acknowledged orders: {string.Join(',', missing.Take(20))}");
        }
        cluster.Log($"all {expected.Count} acknowledged orders are on {string.Join(", ", cluster.NodeIds)}");
    }

    /// <summary>All nodes, once caught up, hold the same state (GET /api/cluster/state-hash).</summary>
    private static async Task AssertReplicasEqualAsync(ContainerCluster cluster)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var hashes = new List<StateHash>();
            foreach (var node in cluster.NodeIds) hashes.Add(await cluster.GetAsync<StateHash>(node, "/api/cluster/state-hash"));
            var summary = string.Join(", ", cluster.NodeIds.Zip(hashes, (node, h) => $"{node} {h.Hash}@{h.AppliedIndex}"));
            if (hashes.Select(h => h.Hash).Distinct().Count() == 1)
            {
                cluster.Log($"state hashes equal: {summary}");
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"replicas differ: {summary}");
            await Task.Delay(200);
        }
    }

    private static async Task AssertStockConservedAsync(ContainerCluster cluster)
    {
        foreach (var node in cluster.NodeIds)
        {
            var stock = await cluster.GetAsync<StockLevel>(node, $"/api/stock/{Sku}");
            Assert.Equal(StockTotal, stock.Available + stock.Locked + stock.Sold);
        }
    }
}
