using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace RaftMall.Node.Tests;

/// <summary>
/// The adversarial full-cluster crash (docs/dotnext.md): kill -9 every node under load, restart the
/// former followers first, let them elect a leader and commit, and only then start the old leader. A node that
/// acknowledged entries before they were on disk loses them here.
/// RAFTMALL_CRASH_TRIALS sets the number of trials (default 2); RAFTMALL_CRASH_DURABLE=false turns the fix off to show the gap;
/// RAFTMALL_CRASH_LOG_MEMORY=shared runs the trials on the memory-mapped log instead of the default private memory.
/// </summary>
public class CrashTests(ITestOutputHelper output)
{
    private static int Trials => int.TryParse(Environment.GetEnvironmentVariable("RAFTMALL_CRASH_TRIALS"), out var n) ? n : 2;

    private static string Durable => Environment.GetEnvironmentVariable("RAFTMALL_CRASH_DURABLE") ?? "true";

    private static string LogMemory => Environment.GetEnvironmentVariable("RAFTMALL_CRASH_LOG_MEMORY") ?? "private";

    [Fact]
    public async Task Full_cluster_crash_with_followers_restarted_first_loses_no_acknowledged_write()
    {
        var failures = new List<string>();
        for (var trial = 1; trial <= Trials; trial++)
        {
            var lost = await RunTrialAsync(trial);
            output.WriteLine($"trial {trial}: {(lost is null ? "ok" : lost)}");
            if (lost is not null) failures.Add($"trial {trial}: {lost}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {Trials} trials lost acknowledged writes (durable follower appends: {Durable}, log memory: {LogMemory}):\n" + string.Join('\n', failures));
    }

    private async Task<string?> RunTrialAsync(int trial)
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string>
        {
            ["DurableFollowerAppends"] = Durable,
            ["LogMemory"] = LogMemory,
            ["SnapshotIntervalEntries"] = "100000",
        });
        await cluster.StartAllAsync();
        var oldLeader = await cluster.WaitForLeaderAsync();
        (await cluster.SendAsync(HttpMethod.Put, oldLeader, "/api/stock/apple", new { available = 1_000_000 })).Dispose();

        // Many concurrent writers, no retries: only definite acknowledgements count.
        var clock = Stopwatch.StartNew();
        var writers = Enumerable.Range(0, 32).Select(i => new Writer(cluster, $"t{trial}w{i}", oldLeader)).ToArray();
        var crashAt = TimeSpan.FromMilliseconds(1_500 + Random.Shared.Next(500));
        var load = writers.Select(async (w, i) =>
        {
            while (clock.Elapsed < crashAt + TimeSpan.FromMilliseconds(300))
            {
                if (i % 2 == 0) await w.PlaceOrderAsync("apple", clock, TimeSpan.Zero, retry: false);
                else await w.PutAsync(clock, TimeSpan.Zero, retry: false);
            }
        }).ToArray();
        await Task.Delay(crashAt);
        cluster.KillAll(); // every node at once, mid-flight
        await Task.WhenAll(load);
        var ackedOrders = writers.SelectMany(w => w.AckedOrders).ToList();
        var ackedPuts = writers.SelectMany(w => w.AckedPuts).ToList();

        // The adversarial order: former followers first; they elect and commit; then the old leader.
        foreach (var id in cluster.NodeIds.Where(id => id != oldLeader)) cluster.Start(id);
        var newLeader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        // Under load a just-elected leader can lose its term again (503): the marker, an idempotent put, is retried.
        for (var attempt = 1; ; attempt++)
        {
            using var marker = await cluster.SendAsync(HttpMethod.Put, await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30)), $"/api/kv/marker-{trial}", new { value = "after-crash" });
            if (marker.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 5)
            {
                await Task.Delay(500);
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, marker.StatusCode);
            break;
        }
        cluster.Start(oldLeader);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        cluster.Log($"trial {trial}: {ackedOrders.Count} orders and {ackedPuts.Count} puts acknowledged; old leader {oldLeader}, new leader {newLeader}");

        var problems = new List<string>();
        foreach (var node in cluster.NodeIds)
        {
            var orders = await Checks.OrderIdsAsync(cluster, node);
            var missingOrders = ackedOrders.Count(a => !orders.Contains(a.OrderId));
            var missingPuts = 0;
            foreach (var (key, revision, _) in ackedPuts)
            {
                using var response = await cluster.SendAsync(HttpMethod.Get, node, $"/api/kv/{key}");
                if (!response.IsSuccessStatusCode || (await response.Content.ReadFromJsonAsync<KvEntry>(TestCluster.Json))!.Revision != revision) missingPuts++;
            }
            if (missingOrders + missingPuts > 0) problems.Add($"{node} lost {missingOrders} orders and {missingPuts} puts");
        }
        // A retry with an acknowledged order's idempotency key returns that order instead of placing another.
        foreach (var (orderId, key, _) in ackedOrders.Take(5))
        {
            using var retry = await cluster.SendAsync(HttpMethod.Post, newLeader, "/api/orders",
                new { userId = key[..key.IndexOf("-order", StringComparison.Ordinal)], items = new[] { new { sku = "apple", quantity = 1 } } }, key);
            var again = (await retry.Content.ReadFromJsonAsync<Order>(TestCluster.Json))!;
            if (again.OrderId != orderId) problems.Add($"idempotency key {key} placed order {again.OrderId} instead of returning {orderId}");
        }
        try
        {
            await Checks.ReplicasEqualAsync(cluster);
            await Checks.StockConservedAsync(cluster, "apple", 1_000_000);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            problems.Add(e.Message);
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }
}
