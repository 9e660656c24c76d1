using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using RaftMall.Client;

namespace RaftMall.Node.Tests;

/// <summary>
/// /metrics of real nodes, scraped as Prometheus would: RaftMall's and DotNext's series exist and move under load,
/// and a leader kill is counted by the survivors. Needs a reader key.
/// </summary>
public sealed class MetricsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Metrics_count_writes_under_load_and_a_leader_change_after_a_kill()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(cluster.Address(leader), "/metrics"))).StatusCode);

        var before = await ScrapeAsync(cluster, leader);
        using var client = new RaftMallClient(cluster.ClientOptions());
        const int writes = 300;
        await Parallel.ForEachAsync(Enumerable.Range(0, writes), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, token) => await client.PutAsync($"m{i}", "v", token: token));
        var after = await ScrapeAsync(cluster, leader);

        // RaftMall's own: writes by outcome code, their latency, entries and writes per entry (group commit), gauges.
        Assert.True(Sum(after, "raftmall_writes_total", "code=\"ok\"") - Sum(before, "raftmall_writes_total", "code=\"ok\"") >= writes);
        Assert.True(Sum(after, "raftmall_write_duration_seconds_count") - Sum(before, "raftmall_write_duration_seconds_count") >= writes);
        var entries = Sum(after, "raftmall_log_entries_total") - Sum(before, "raftmall_log_entries_total");
        Assert.InRange(entries, 1, writes);
        Assert.True(Sum(after, "raftmall_log_writes_per_entry_sum") - Sum(before, "raftmall_log_writes_per_entry_sum") >= writes);
        Assert.True(Sum(after, "raftmall_raft_commit_index") >= entries);
        Assert.Equal(1, Sum(after, "raftmall_raft_leader"));
        Assert.True(Sum(after, "raftmall_idempotency_keys") >= writes);
        // DotNext's, renamed: the write-ahead log's flushes and the leader's replication requests by message type.
        Assert.True(Sum(after, "dotnext_wal_entries_flush_duration_milliseconds_count") > Sum(before, "dotnext_wal_entries_flush_duration_milliseconds_count"));
        Assert.True(Sum(after, "dotnext_raft_client_response_time_milliseconds_count") > Sum(before, "dotnext_raft_client_response_time_milliseconds_count"));
        // ASP.NET Core's and the runtime's.
        Assert.True(Sum(after, "http_server_request_duration_seconds_count") > 0);
        Assert.True(Sum(after, "dotnet_gc_collections_total") >= 0 && after.Contains("dotnet_gc_", StringComparison.Ordinal));

        // A kill: a survivor counts the change of leader (to none, then to the new one) and a higher term.
        var survivor = cluster.NodeIds.First(id => id != leader);
        var survivorBefore = await ScrapeAsync(cluster, survivor);
        cluster.Kill(leader);
        await cluster.WaitForLeaderAsync(not: leader);
        // The exporter may answer a scrape from its cache (a few hundred ms): scrape again until the change shows, for 5 s.
        var survivorAfter = await ScrapeAsync(cluster, survivor);
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(5)
            && Sum(survivorAfter, "raftmall_raft_leader_changes_total") <= Sum(survivorBefore, "raftmall_raft_leader_changes_total");)
        {
            await Task.Delay(200);
            survivorAfter = await ScrapeAsync(cluster, survivor);
        }
        Assert.True(Sum(survivorAfter, "raftmall_raft_leader_changes_total") > Sum(survivorBefore, "raftmall_raft_leader_changes_total"),
            "the survivor counted no leader change");
        Assert.True(Sum(survivorAfter, "raftmall_raft_term") > Sum(survivorBefore, "raftmall_raft_term"));
    }

    private static async Task<string> ScrapeAsync(TestCluster cluster, string node)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.Address(node), "/metrics"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCluster.TestKeys.Reader);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
        return text;
    }

    /// <summary>The sum of every sample of <paramref name="metric"/> whose labels contain <paramref name="label"/>.</summary>
    private static double Sum(string exposition, string metric, string label = "") =>
        exposition.Split('\n')
            .Where(line => line.StartsWith(metric, StringComparison.Ordinal) && (line.Length > metric.Length && line[metric.Length] is '{' or ' '))
            .Where(line => line.Contains(label, StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') is var close and >= 0 ? close + 1 : metric.Length)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
}

/// <summary>
/// OTLP export of real nodes: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a receiver of this test (OTLP over
/// HTTP/protobuf on 127.0.0.1), the nodes push metrics and the spans of writes. The receiver does not decode protobuf:
/// instrument and span names are plain UTF-8 strings inside it.
/// </summary>
public sealed class OtlpExportTests(ITestOutputHelper output)
{
    [Fact]
    public async Task With_an_otlp_endpoint_nodes_push_metrics_and_the_spans_of_writes()
    {
        using var receiver = new System.Net.HttpListener();
        var port = RaftMall.Harness.Processes.FreePorts(1)[0];
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var bodies = new System.Collections.Concurrent.ConcurrentBag<(string Path, byte[] Body)>();
        _ = Task.Run(async () =>
        {
            while (receiver.IsListening)
            {
                try
                {
                    var context = await receiver.GetContextAsync();
                    using var buffer = new MemoryStream();
                    await context.Request.InputStream.CopyToAsync(buffer);
                    bodies.Add((context.Request.Url!.AbsolutePath, buffer.ToArray()));
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
        await using var cluster = new TestCluster(output: output, environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        await cluster.StartAllAsync();
        await cluster.WaitForLeaderAsync();
        using var client = new RaftMallClient(cluster.ClientOptions());
        for (var i = 0; i < 20; i++) await client.PutAsync($"o{i}", "v");

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && !(Has("/v1/traces", "raftmall.write") && Has("/v1/metrics", "raftmall.writes"))) await Task.Delay(200);
        Assert.True(Has("/v1/traces", "raftmall.write"), "no span named raftmall.write was pushed to /v1/traces");
        Assert.True(Has("/v1/traces", "raftmall.propose"), "no entry span was pushed");
        Assert.True(Has("/v1/metrics", "raftmall.writes"), "no raftmall.writes metric was pushed to /v1/metrics");
        Assert.True(Has("/v1/metrics", "dotnext.wal.entries_flush_duration"), "DotNext's renamed instruments were not pushed");

        bool Has(string path, string text)
        {
            var needle = System.Text.Encoding.UTF8.GetBytes(text);
            return bodies.Any(b => b.Path == path && b.Body.AsSpan().IndexOf(needle) >= 0);
        }
    }
}
