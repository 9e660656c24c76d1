using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace RaftMall.Node.Tests;

/// <summary>
/// The dashboard's server side: the page and its CORS rules on every node, and the demo switch — without it no
/// endpoint can kill or start a node or start a stream of orders; with it they do what the control panel says.
/// </summary>
public sealed class DashboardTests(ITestOutputHelper output)
{
    private static readonly string[] DemoPosts =
        ["/api/demo/kill-leader", "/api/demo/nodes/n1/kill", "/api/demo/nodes/n2/start", "/api/demo/orders/start", "/api/demo/orders/stop"];

    [Fact]
    public async Task Without_the_demo_switch_a_node_serves_the_page_and_reads_to_members_but_nothing_can_kill_start_or_load()
    {
        await using var cluster = new TestCluster(3, output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();

        foreach (var node in cluster.NodeIds)
        {
            foreach (var path in DemoPosts)
            {
                using var post = await PostJsonAsync(cluster, node, path, "{\"ordersPerSecond\":10,\"durationSeconds\":5}");
                Assert.True(post.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"POST {path} on {node}: {(int)post.StatusCode}");
            }
            using var get = await cluster.SendAsync(HttpMethod.Get, node, "/api/demo");
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        }

        await Task.Delay(1_000); // a kill or a stream would show within this
        Assert.All(cluster.NodeIds, id => Assert.True(cluster.IsRunning(id), $"{id} died"));
        Assert.Equal(leader, await cluster.WaitForLeaderAsync());
        Assert.Equal(0, (await cluster.StatusAsync(leader))!.Stats.Orders);
        Assert.DoesNotContain("/api/demo", await cluster.Http.GetStringAsync(new Uri(cluster.Address(leader), "/openapi/v1.json")), StringComparison.Ordinal);

        var n2 = cluster.Address("n2").GetLeftPart(UriPartial.Authority);

        foreach (var node in cluster.NodeIds)
        {
            using var page = await cluster.SendAsync(HttpMethod.Get, node, "/");
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("/dashboard/dashboard.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Contains($"connect-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            using var script = await cluster.SendAsync(HttpMethod.Get, node, "/dashboard/dashboard.js");
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }

        // A member's page may read with a key (preflighted GET) ...
        using (var preflight = await PreflightAsync(cluster, "n1", "/api/cluster", n2, "GET", "authorization"))
        {
            Assert.Equal(n2, preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("GET", preflight.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        }
        // ... but not write: the API's writes stay same-origin.
        using (var preflight = await PreflightAsync(cluster, "n1", "/api/orders", n2, "POST", "content-type"))
        {
            Assert.DoesNotContain("POST", preflight.Headers.TryGetValues("Access-Control-Allow-Methods", out var methods) ? string.Join(',', methods) : "", StringComparison.Ordinal);
        }
        // Another site reads nothing.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.Address("n1"), "/api/cluster"));
        request.Headers.Add("Origin", "http://shop.example");
        using var foreign = await cluster.Http.SendAsync(request);
        Assert.False(foreign.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task With_the_demo_switch_an_admin_kills_the_leader_the_stream_measures_the_gap_and_a_member_restarts_it()
    {
        await using var cluster = new TestCluster(3, output, environment: new Dictionary<string, string> { ["RaftMall__Demo__Enabled"] = "true" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.NodeIds.First(id => id != leader);
        int? restartedPid = null;
        try
        {
            // Killing needs the admin role: a reader's or writer's key is refused and nothing happens.
            foreach (var key in new[] { TestCluster.TestKeys.Reader, TestCluster.TestKeys.Writer })
            {
                using var refused = await PostJsonAsync(cluster, follower, "/api/demo/kill-leader", "{}", key);
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            }
            Assert.True(cluster.IsRunning(leader));

            // Asked on the leader, the stream runs on a follower, so that killing the leader does not stop it.
            using (var start = await PostJsonAsync(cluster, leader, "/api/demo/orders/start", "{\"ordersPerSecond\":40,\"durationSeconds\":30}"))
            {
                Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
                Assert.NotEqual(leader, (await ReadJsonAsync(start)).GetProperty("stream").GetProperty("hostNodeId").GetString());
            }
            await WaitForAsync(async () => (await cluster.StatusAsync(leader))?.Stats.Orders >= 40, "40 orders");

            using (var kill = await PostJsonAsync(cluster, follower, "/api/demo/kill-leader", "{}"))
            {
                Assert.True(kill.StatusCode == HttpStatusCode.Accepted, $"{(int)kill.StatusCode} {await kill.Content.ReadAsStringAsync()}");
                Assert.Equal(leader, (await ReadJsonAsync(kill)).GetProperty("nodeId").GetString());
            }
            await WaitForAsync(() => Task.FromResult(!cluster.IsRunning(leader)), $"{leader} to exit");
            var newLeader = await cluster.WaitForLeaderAsync(not: leader);
            cluster.Log($"{leader} killed itself; {newLeader} leads");

            // The stream goes on and reports the write gap around the kill.
            var orders = (await cluster.StatusAsync(newLeader))!.Stats.Orders;
            await WaitForAsync(async () => (await cluster.StatusAsync(newLeader))?.Stats.Orders >= orders + 40, "40 more orders after the failover");
            var gaps = await GapsAsync(cluster, cluster.NodeIds.Where(cluster.IsRunning));
            cluster.Log($"write gaps: {string.Join(", ", gaps)} ms");
            Assert.Contains(gaps, ms => ms is >= 150 and < 10_000);

            using (var restart = await PostJsonAsync(cluster, newLeader, $"/api/demo/nodes/{leader}/start", "{}"))
            {
                Assert.Equal(HttpStatusCode.Accepted, restart.StatusCode);
                restartedPid = (await ReadJsonAsync(restart)).GetProperty("processId").GetInt32();
            }
            await WaitForAsync(async () => await cluster.StatusAsync(leader) is { } s && s.LeaderId == newLeader, $"{leader} to rejoin");
            // Started with the harness's convention, so every tool finds it: the pid file names the process that answered.
            Assert.Equal(restartedPid, RaftMall.Harness.NodeFiles.RunningPid(cluster.Cluster, leader));
            using var again = await PostJsonAsync(cluster, newLeader, $"/api/demo/nodes/{leader}/start", "{}");
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }
        finally
        {
            // The restarted member was started by another node, with the harness's pid file: the cluster finds and kills it
            // (as `cluster down` would).
            cluster.Kill(leader);
        }
    }

    [Fact]
    public async Task The_demo_controls_kill_and_start_a_member_that_cluster_yml_does_not_list()
    {
        await using var cluster = new TestCluster(3, output, environment: new Dictionary<string, string> { ["RaftMall__Demo__Enabled"] = "true" });
        await cluster.StartAllAsync();
        var n4 = cluster.StartJoining("n4");
        await WaitForAsync(async () => await cluster.StatusAsync("n4") is not null, "n4 to answer");
        var added = await MemberSteps.ChangeAsync(cluster, HttpMethod.Post, "n1", "/api/cluster/members", new { address = n4.ToString() });
        Assert.Equal(HttpStatusCode.Created, added.Status);
        await MemberSteps.WaitForMembersAsync(cluster, ["n1", "n2", "n3", "n4"]);
        var memberId = (await cluster.StatusAsync("n4"))!.MemberId;
        try
        {
            using (var kill = await PostJsonAsync(cluster, "n1", "/api/demo/nodes/n4/kill", "{}"))
            {
                Assert.True(kill.StatusCode == HttpStatusCode.Accepted, $"{(int)kill.StatusCode} {await kill.Content.ReadAsStringAsync()}");
            }
            await WaitForAsync(() => Task.FromResult(!cluster.IsRunning("n4")), "n4 to exit");

            using (var start = await PostJsonAsync(cluster, "n1", "/api/demo/nodes/n4/start", "{}"))
            {
                Assert.True(start.StatusCode == HttpStatusCode.Accepted, $"{(int)start.StatusCode} {await start.Content.ReadAsStringAsync()}");
            }
            // Started at its own address (cluster.yml does not have it), with its data directory: the same member again.
            var back = await cluster.WaitForStatusAsync("n4", s => s.LeaderId is not null, "n4 to follow a leader again");
            Assert.Equal(("n4", memberId), (back.NodeId, back.MemberId));
        }
        finally
        {
            cluster.Kill("n4"); // started by n1 with the harness's pid file
        }
    }

    private static async Task<List<long>> GapsAsync(TestCluster cluster, IEnumerable<string> nodes)
    {
        var gaps = new List<long>();
        foreach (var node in nodes)
        {
            var demo = await cluster.GetAsync<JsonElement>(node, "/api/demo");
            if (demo.TryGetProperty("stream", out var stream)) gaps.AddRange(stream.GetProperty("gaps").EnumerateArray().Select(g => g.GetProperty("ms").GetInt64()));
        }
        return gaps;
    }

    private static async Task<HttpResponseMessage> PostJsonAsync(TestCluster cluster, string node, string path, string json, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.Address(node), path))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (key is not null) request.Headers.Authorization = new("Bearer", key);
        return await cluster.Http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> PreflightAsync(TestCluster cluster, string node, string path, string origin, string method, string headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, new Uri(cluster.Address(node), path));
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return await cluster.Http.SendAsync(request);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"waited 20 s for {what}");
    }
}
