using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using static RaftMall.Node.Tests.MemberSteps;

namespace RaftMall.Node.Tests;

/// <summary>
/// Changing the members while the cluster runs: a node that cluster.yml does not list joins, is caught up, keeps its
/// configuration across restarts and works everywhere (forwarding, readiness, status); the cluster grows to five and
/// shrinks back under steady writes without losing an acknowledged one; a removed address can be added again.
/// </summary>
public sealed class MembershipTests(ITestOutputHelper output)
{
    private static readonly string[] Bootstrap = ["n1", "n2", "n3"];
    private static readonly string[] Grown = ["n4", "n5"];

    [Fact]
    public async Task A_node_absent_from_cluster_yml_joins_works_everywhere_and_every_node_keeps_the_configuration_across_restarts()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.NodeIds.First(id => id != leader);
        (await cluster.SendAsync(HttpMethod.Put, leader, "/api/kv/before", new { value = "v" })).Dispose();

        var n4 = cluster.StartJoining("n4");
        await WaitUntilAnswersAsync(cluster, "n4");
        var waiting = await cluster.StatusAsync("n4");
        Assert.Empty(waiting!.Members); // no configuration until it is added

        // Added through a follower: the change is forwarded to the leader like any write.
        var added = await ChangeAsync(cluster, HttpMethod.Post, follower, "/api/cluster/members", new { address = n4.ToString() });
        Assert.Equal(HttpStatusCode.Created, added.Status);
        Assert.True(added.Members!.Changed);
        await WaitForMembersAsync(cluster, ["n1", "n2", "n3", "n4"]);
        Assert.Equal("v", (await cluster.GetAsync<KvEntry>("n4", "/api/kv/before")).Value); // caught up

        // n4 serves writes (forwarding to the leader) and is ready; adding it again changes nothing.
        (await cluster.SendAsync(HttpMethod.Put, "n4", "/api/kv/through-n4", new { value = "w" })).EnsureSuccessStatusCode().Dispose();
        using (var ready = await cluster.Http.GetAsync(new Uri(n4, "/health/ready"))) Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        // The dashboard of a bootstrap node may read from n4 (CSP), and n1 allows reads from a page loaded from n4 (CORS).
        var n4Origin = n4.GetLeftPart(UriPartial.Authority);
        using (var page = await cluster.Http.GetAsync(new Uri(cluster.Address("n1"), "/")))
        {
            Assert.Contains(n4Origin, page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
        using (var crossOrigin = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.Address("n1"), "/api/cluster")))
        {
            crossOrigin.Headers.Add("Origin", n4Origin);
            using var answer = await cluster.Http.SendAsync(crossOrigin);
            Assert.Equal(n4Origin, answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
        var again = await ChangeAsync(cluster, HttpMethod.Post, leader, "/api/cluster/members", new { address = n4.ToString() });
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.False(again.Members!.Changed);

        // Every node keeps the four members across a restart: n4 is not in cluster.yml, n1..n3 read their own file.
        foreach (var id in new[] { "n4", follower })
        {
            cluster.Kill(id);
            cluster.Start(id);
            await WaitUntilAnswersAsync(cluster, id);
        }
        await cluster.WaitForLeaderAsync();
        await WaitForMembersAsync(cluster, ["n1", "n2", "n3", "n4"]);
        Assert.Equal("w", (await cluster.GetAsync<KvEntry>("n4", "/api/kv/through-n4")).Value);
        await Checks.ReplicasEqualAsync(cluster);
    }

    [Fact]
    public async Task The_cluster_grows_to_five_and_shrinks_back_under_steady_writes_losing_nothing_and_a_removed_address_is_added_again()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var first = await cluster.WaitForLeaderAsync();
        (await cluster.SendAsync(HttpMethod.Put, first, "/api/stock/apple", new { available = 1_000_000 })).Dispose();

        var clock = Stopwatch.StartNew();
        Uri? n5 = null;
        using var stop = new CancellationTokenSource();
        // Writers talk to the bootstrap nodes only (a joining node answers 503 until it is added).
        var writers = Bootstrap.Select(id => new Writer(cluster, $"w-{id}", onlyNode: id)).ToArray();
        var load = writers.Select(async w =>
        {
            while (!stop.IsCancellationRequested) await w.PlaceOrderAsync("apple", clock, TimeSpan.FromSeconds(20));
        }).ToArray();

        try
        {
            // Grow: 3 -> 4 -> 5.
            foreach (var id in Grown)
            {
                var address = cluster.StartJoining(id);
                n5 = address;
                await WaitUntilAnswersAsync(cluster, id);
                var answer = await AddAsync(cluster, address.ToString(), via: "n1");
                Assert.Contains(answer.Members!.Members, m => m.NodeId == id);
                cluster.Log($"added {id}: {string.Join(", ", answer.Members!.Members.Select(m => m.NodeId))}");
            }
            await WaitForMembersAsync(cluster, ["n1", "n2", "n3", "n4", "n5"]);

            // Shrink: remove the leader (it resigns first, the next leader removes it) and n5: 5 -> 4 -> 3.
            var leader = await cluster.WaitForLeaderAsync();
            var removed = await RemoveAsync(cluster, leader, via: "n4");
            cluster.Log($"removed the leader {leader}: {string.Join(", ", removed.Members.Select(m => m.NodeId))} (leader now {removed.LeaderId})");
            Assert.DoesNotContain(removed.Members, m => m.NodeId == leader);
            var gone = await RemoveAsync(cluster, "n5", via: "n4");
            Assert.DoesNotContain(gone.Members, m => m.NodeId == "n5");
            cluster.Kill("n5");
            cluster.Forget("n5");
            cluster.Kill(leader);

            var final = Bootstrap.Append("n4").Where(id => id != leader).ToArray();
            await WaitForMembersAsync(cluster, final, among: final);
            await Task.Delay(1_000); // writes go on with three members
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        var acked = writers.SelectMany(w => w.AckedOrders).ToList();
        var unknown = writers.Sum(w => w.Unknown);
        cluster.Log($"{acked.Count} orders acknowledged, {unknown} given up");
        Assert.True(acked.Count > 100, $"only {acked.Count} orders were acknowledged");
        await cluster.WaitForLeaderAsync();
        await Checks.AllAcknowledgedOrdersEverywhereAsync(cluster, acked.Select(a => a.OrderId));
        await Checks.ReplicasEqualAsync(cluster);
        await Checks.StockConservedAsync(cluster, "apple", 1_000_000);

        // Re-adding a removed address (DotNext 6.7 broke this once): n5's address, on an empty data directory.
        Directory.Delete(cluster.DataDirectory("n5"), recursive: true);
        cluster.StartJoining("n5", n5!);
        await WaitUntilAnswersAsync(cluster, "n5");
        var readded = await ChangeAsync(cluster, HttpMethod.Post, cluster.NodeIds.First(cluster.IsRunning), "/api/cluster/members", new { address = n5!.ToString() });
        Assert.Equal(HttpStatusCode.Created, readded.Status);
        await WaitForMembersAsync(cluster, [.. cluster.NodeIds.Where(cluster.IsRunning)]);
        await Checks.AllAcknowledgedOrdersEverywhereAsync(cluster, acked.Select(a => a.OrderId));
        await Checks.ReplicasEqualAsync(cluster);
    }

    [Fact]
    public async Task A_concurrent_change_answers_409_and_a_node_that_does_not_run_is_refused_with_the_reason()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();

        var nobody = new Uri($"http://127.0.0.1:{RaftMall.Harness.Processes.FreePorts(1)[0]}");
        var refused = await ChangeAsync(cluster, HttpMethod.Post, leader, "/api/cluster/members", new { address = nobody.ToString() });
        Assert.Equal((HttpStatusCode)422, refused.Status);
        Assert.Equal("member_unreachable", refused.Problem!.Code);

        // Two adds at once: one catches its node up while the other finds the change under way.
        var a = cluster.StartJoining("n4");
        var b = cluster.StartJoining("n5");
        await WaitUntilAnswersAsync(cluster, "n4");
        await WaitUntilAnswersAsync(cluster, "n5");
        var answers = await Task.WhenAll(
            ChangeAsync(cluster, HttpMethod.Post, leader, "/api/cluster/members", new { address = a.ToString() }),
            ChangeAsync(cluster, HttpMethod.Post, leader, "/api/cluster/members", new { address = b.ToString() }));
        cluster.Log(string.Join("; ", answers.Select(x => $"{(int)x.Status} {x.Problem?.Code}")));
        Assert.Contains(answers, x => x.Status == HttpStatusCode.Created);
        Assert.All(answers, x => Assert.True(x.Status == HttpStatusCode.Created || x.Problem?.Code == "membership_change_in_progress", $"{(int)x.Status} {x.Problem?.Code}"));

        var unknown = await ChangeAsync(cluster, HttpMethod.Delete, leader, "/api/cluster/members/n9", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal("unknown_member", unknown.Problem!.Code);
    }
}
