using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace RaftMall.Node.Tests;

/// <summary>A 3-node cluster of real processes: election, forwarding, linearizable reads, failover, expiry, bad input.</summary>
public class ClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_leader_is_elected_and_an_order_placed_through_a_follower_is_visible_on_every_node()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var followers = cluster.NodeIds.Where(id => id != leader).ToArray();
        var statuses = await Task.WhenAll(cluster.NodeIds.Select(cluster.StatusAsync));
        Assert.Single(statuses, s => s!.Role == "leader");

        Assert.Equal(HttpStatusCode.OK, (await cluster.SendAsync(HttpMethod.Put, followers[0], "/api/stock/apple", new { available = 10 })).StatusCode);
        using var tokenResponse = await cluster.SendAsync(HttpMethod.Post, followers[1], "/api/orders/tokens", new { userId = "alice" });
        var token = (await tokenResponse.Content.ReadFromJsonAsync<SubmitToken>(TestCluster.Json))!.Token;
        using var placed = await cluster.SendAsync(HttpMethod.Post, followers[0], "/api/orders",
            new { userId = "alice", token, items = new[] { new { sku = "apple", quantity = 2 } } });
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var order = (await placed.Content.ReadFromJsonAsync<Order>(TestCluster.Json))!;

        foreach (var node in cluster.NodeIds)
        {
            // Linearizable reads: no waiting for replication, the read barrier does it.
            Assert.Equal("pending", (await cluster.GetAsync<Order>(node, $"/api/orders/{order.OrderId}")).Status);
            Assert.Equal(new StockLevel("apple", 8, 2, 0), await cluster.GetAsync<StockLevel>(node, "/api/stock/apple"));
        }

        using var again = await cluster.SendAsync(HttpMethod.Post, followers[1], "/api/orders",
            new { userId = "alice", token, items = new[] { new { sku = "apple", quantity = 2 } } });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("token_used", (await again.Content.ReadFromJsonAsync<ProblemBody>(TestCluster.Json))!.Code);

        using var paid = await cluster.SendAsync(HttpMethod.Post, followers[1], $"/api/orders/{order.OrderId}/pay");
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal(new StockLevel("apple", 8, 0, 2), await cluster.GetAsync<StockLevel>(leader, "/api/stock/apple"));

        // Every node serves the OpenAPI document and its health endpoints.
        var openApi = await cluster.Http.GetStringAsync(new Uri(cluster.Address(followers[0]), "/openapi/v1.json"));
        Assert.Contains("/api/orders/{id}/pay", openApi, StringComparison.Ordinal);
        Assert.Contains("/api/kv/{key}", openApi, StringComparison.Ordinal);
        foreach (var node in cluster.NodeIds)
        {
            Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync(new Uri(cluster.Address(node), "/health/live"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync(new Uri(cluster.Address(node), "/health/ready"))).StatusCode);
        }
    }

    [Fact]
    public async Task A_five_node_cluster_keeps_writing_with_two_nodes_down()
    {
        await using var cluster = new TestCluster(nodes: 5, output: output);
        // Five nodes on two cores beside the other test assemblies (CI saw a load average of 14): the first election
        // may take longer than a three-node one; this test is about writing with two nodes down, not about start-up.
        await cluster.StartAllAsync(TimeSpan.FromSeconds(60));
        var leader = await cluster.WaitForLeaderAsync();
        var victims = new[] { leader, cluster.NodeIds.First(id => id != leader) };
        foreach (var id in victims) cluster.Kill(id);
        var survivor = cluster.NodeIds.First(cluster.IsRunning);
        var clock = Stopwatch.StartNew();
        var writer = new Writer(cluster, "five");
        await writer.PutAsync(clock, TimeSpan.FromSeconds(10));
        Assert.Single(writer.AckedPuts);
        var newLeader = await cluster.WaitForLeaderAsync();
        Assert.DoesNotContain(newLeader, victims);
        Assert.Equal(writer.AckedPuts[0].Revision, (await cluster.GetAsync<KvEntry>(survivor, "/api/kv/" + writer.AckedPuts[0].Key)).Revision);
    }

    [Fact]
    public async Task Killing_the_leader_elects_a_new_one_and_loses_no_acknowledged_order()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var oldLeader = await cluster.WaitForLeaderAsync();
        (await cluster.SendAsync(HttpMethod.Put, oldLeader, "/api/stock/apple", new { available = 1_000_000 })).Dispose();

        var clock = Stopwatch.StartNew();
        var writers = Enumerable.Range(0, 4).Select(i => new Writer(cluster, $"w{i}")).ToArray();
        var stopAt = TimeSpan.FromSeconds(4);
        var load = writers.Select(async w =>
        {
            while (clock.Elapsed < stopAt) await w.PlaceOrderAsync("apple", clock, TimeSpan.FromSeconds(10));
        }).ToArray();

        await Task.Delay(1_500);
        var killedAt = clock.Elapsed;
        cluster.Kill(oldLeader);
        cluster.Log($"killed leader {oldLeader} at {killedAt.TotalMilliseconds:F0} ms");
        await Task.WhenAll(load);

        var newLeader = await cluster.WaitForLeaderAsync();
        Assert.NotEqual(oldLeader, newLeader);
        var acked = writers.SelectMany(w => w.AckedOrders).ToList();
        var firstAfterKill = acked.Where(a => a.At > killedAt).Min(a => a.At);
        cluster.Log($"{acked.Count} orders acknowledged; first write acknowledged {(firstAfterKill - killedAt).TotalMilliseconds:F0} ms after the kill");
        Assert.Contains(acked, a => a.At > killedAt + TimeSpan.FromSeconds(1)); // writes go on after failover

        cluster.Start(oldLeader);
        await cluster.WaitForLeaderAsync();
        await Checks.AllAcknowledgedOrdersEverywhereAsync(cluster, acked.Select(a => a.OrderId));
        await Checks.ReplicasEqualAsync(cluster);
        await Checks.StockConservedAsync(cluster, "apple", 1_000_000);
    }

    [Fact]
    public async Task An_order_with_a_short_ttl_is_expired_by_the_next_leader()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        (await cluster.SendAsync(HttpMethod.Put, leader, "/api/stock/apple", new { available = 5 })).Dispose();
        using var placed = await cluster.SendAsync(HttpMethod.Post, leader, "/api/orders",
            new { userId = "bob", items = new[] { new { sku = "apple", quantity = 3 } }, ttlSeconds = 2 });
        var order = (await placed.Content.ReadFromJsonAsync<Order>(TestCluster.Json))!;
        cluster.Kill(leader);
        var survivor = cluster.NodeIds.First(cluster.IsRunning);

        var deadline = DateTime.UtcNow.AddSeconds(8);
        var status = "";
        do
        {
            await Task.Delay(200);
            try
            {
                status = (await cluster.GetAsync<Order>(survivor, $"/api/orders/{order.OrderId}")).Status;
            }
            catch (HttpRequestException)
            {
                // 503 while the survivors elect a leader
            }
        }
        while (status != "expired" && DateTime.UtcNow < deadline);
        Assert.Equal("expired", status);
        Assert.Equal(new StockLevel("apple", 5, 0, 0), await cluster.GetAsync<StockLevel>(survivor, "/api/stock/apple"));
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_code_and_appends_nothing()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.NodeIds.First(id => id != leader);
        (await cluster.SendAsync(HttpMethod.Put, leader, "/api/stock/apple", new { available = 5 })).Dispose();
        await Task.Delay(300);
        var before = (await cluster.StatusAsync(leader))!.CommitIndex;

        async Task Expect(HttpStatusCode status, string code, HttpRequestMessage request)
        {
            using var response = await cluster.Http.SendAsync(request);
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(code, (await response.Content.ReadFromJsonAsync<ProblemBody>(TestCluster.Json))!.Code);
        }
        HttpRequestMessage Raw(HttpMethod method, string path, string? json, params (string, string)[] headers)
        {
            var request = new HttpRequestMessage(method, new Uri(cluster.Address(follower), path));
            if (json is not null) request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            return request;
        }

        await Expect(HttpStatusCode.BadRequest, "malformed_json", Raw(HttpMethod.Put, "/api/stock/apple", "{\"available\":"));
        await Expect(HttpStatusCode.BadRequest, "malformed_json", Raw(HttpMethod.Put, "/api/stock/apple", "{\"available\":\"ten\"}"));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Put, "/api/stock/apple", "{\"available\":-3}"));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Put, "/api/stock/" + new string('s', 200), "{\"available\":3}"));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Post, "/api/orders", "{\"userId\":\"u\",\"items\":[{\"sku\":\"apple\",\"quantity\":0}]}"));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Post, "/api/orders", "{\"userId\":\"\",\"items\":[{\"sku\":\"apple\",\"quantity\":1}]}"));
        var tooMany = string.Join(',', Enumerable.Range(0, 51).Select(i => $"{{\"sku\":\"s{i}\",\"quantity\":1}}"));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Post, "/api/orders", $"{{\"userId\":\"u\",\"items\":[{tooMany}]}}"));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Post, "/api/orders/tokens", "{\"userId\":\"u\"}", ("Idempotency-Key", new string('k', 129))));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Put, "/api/kv/k", "{\"value\":\"v\"}", ("If-Match", "abc")));
        await Expect(HttpStatusCode.RequestEntityTooLarge, "body_too_large", Raw(HttpMethod.Put, "/api/kv/k", "{\"value\":\"" + new string('v', 1_100_000) + "\"}"));
        await Expect(HttpStatusCode.NotFound, "order_not_found", Raw(HttpMethod.Post, "/api/orders/424242/pay", null));
        await Expect(HttpStatusCode.BadRequest, "validation", Raw(HttpMethod.Get, "/api/orders?limit=0", null));

        await Task.Delay(300);
        // 404s of well-formed writes are applied (and answered) by the state machine; everything else appended nothing.
        Assert.Equal(before + 1, (await cluster.StatusAsync(leader))!.CommitIndex);
    }

    [Fact]
    public async Task Without_a_quorum_writes_and_reads_answer_503_with_retry_after()
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["LeaderWaitMs"] = "1000" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var survivor = cluster.NodeIds.First(id => id != leader);
        foreach (var id in cluster.NodeIds.Where(id => id != survivor)) cluster.Kill(id);
        await Task.Delay(500);

        var clock = Stopwatch.StartNew();
        using var write = await cluster.SendAsync(HttpMethod.Put, survivor, "/api/stock/apple", new { available = 1 });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
        Assert.NotNull(write.Headers.RetryAfter);
        Assert.Equal("no_leader", (await write.Content.ReadFromJsonAsync<ProblemBody>(TestCluster.Json))!.Code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the write waited {clock.Elapsed} for a leader");

        using var read = await cluster.SendAsync(HttpMethod.Get, survivor, "/api/stock/apple");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
        using var local = await cluster.SendAsync(HttpMethod.Get, survivor, "/api/stock?consistency=local");
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await cluster.Http.GetAsync(new Uri(cluster.Address(survivor), "/health/ready"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync(new Uri(cluster.Address(survivor), "/health/live"))).StatusCode);
    }
}
