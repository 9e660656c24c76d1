using System.Diagnostics;
using System.Net;

namespace RaftMall.Node.Tests;

/// <summary>
/// A quick, bounded throughput measurement of the coordinator (not a CI test: it runs only with
/// RAFTMALL_TXN_THROUGHPUT=seconds): TCC transactions with 2 HTTP participants at 16 and 64 concurrent clients.
/// The real benchmark is `raftmall bench-txn`; this one exists to find where the coordinator spends its time.
/// </summary>
public class TransactionThroughput(ITestOutputHelper output)
{
    [Fact]
    public async Task Tcc_transactions_per_second_with_two_http_participants()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("RAFTMALL_TXN_THROUGHPUT"), out var seconds)) return;
        await using var points = await TestParticipant.StartAsync();
        await using var coupons = await TestParticipant.StartAsync();
        points.KeepCalls = coupons.KeepCalls = false;
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var http = cluster.Http; // carries the cluster's credentials
        var node = cluster.Address(leader);
        // Reference: single-entry writes (kv put) through the same leader at 64 clients.
        var puts = 0;
        var until = DateTime.UtcNow.AddSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async c =>
        {
            while (DateTime.UtcNow < until)
            {
                using var response = await http.PutAsync(new Uri(node, $"/api/kv/k{c}"), new StringContent("{\"value\":\"v\"}", System.Text.Encoding.UTF8, "application/json"));
                if (response.IsSuccessStatusCode) Interlocked.Increment(ref puts);
            }
        }));
        output.WriteLine($"reference: kv put at 64 clients: {puts / (double)seconds:F0} writes/s");
        foreach (var clients in new[] { 16, 64 })
        {
            var (count, failures, latencies) = await RunAsync(http, node, points, coupons, clients, TimeSpan.FromSeconds(seconds));
            latencies.Sort();
            output.WriteLine($"{clients} clients: {count / (double)seconds:F0} txn/s, {failures} failures, p50 {latencies[latencies.Count / 2]:F1} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:F1} ms");
        }
    }

    private static async Task<(int Count, int Failures, List<double> Latencies)> RunAsync(HttpClient http, Uri node, TestParticipant a, TestParticipant b, int clients, TimeSpan duration)
    {
        var stop = DateTime.UtcNow + duration;
        int count = 0, failures = 0, sequence = 0;
        var latencies = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (DateTime.UtcNow < stop)
            {
                var gid = $"bench-{clients}-{Interlocked.Increment(ref sequence)}";
                var body = "{\"gid\":\"" + gid + "\",\"mode\":\"tcc\",\"timeoutMs\":10000,\"branches\":["
                    + Branch("points", a, "p") + "," + Branch("coupon", b, "c") + "]}";
                var clock = Stopwatch.StartNew();
                using var response = await http.PostAsync(new Uri(node, "/api/transactions?wait=decided"), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
                var ms = clock.Elapsed.TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.Created && Interlocked.Increment(ref failures) <= 3)
                {
                    Console.Error.WriteLine($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                else Interlocked.Increment(ref count);
                lock (latencies) latencies.Add(ms);
            }
        }));
        return (count, failures, latencies);
    }

    private static string Branch(string id, TestParticipant p, string service) =>
        $"{{\"branchId\":\"{id}\",\"kind\":\"http\",\"try\":\"{p.Url(service, "try")}\",\"confirm\":\"{p.Url(service, "confirm")}\",\"cancel\":\"{p.Url(service, "cancel")}\",\"payload\":{{\"points\":10}}}}";
}
