using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace RaftMall.Bench;

/// <summary>
/// The recovery bench: a scratch cluster filled with N orders, then kill -9 and restart of a follower: time until it
/// answers /health/ready and until it has applied everything the leader had committed.
/// </summary>
public static class RecoveryBench
{
    public sealed record Report(long Orders, double FillSeconds, double OrdersPerSecondWhileFilling, long SnapshotBytes, long LogBytes,
        double ProcessStartToReadyMs, double ProcessStartToCaughtUpMs, long LeaderCommitIndex, string RestartedNode);

    /// <summary>Fills <paramref name="cluster"/> (started) with <paramref name="count"/> orders, then kills and restarts a follower; <paramref name="note"/> takes progress lines (Spectre markup).</summary>
    public static async Task<Report> RunAsync(ScratchRaftMallCluster cluster, long count, int concurrency, Action<string> note, CancellationToken token)
    {
        var target = (RaftMallTarget)cluster.Target;
        using var http = LoadGenerator.CreateHttpClient(concurrency, TimeSpan.FromSeconds(30));
        var endpoints = await target.ResolveEndpointsAsync(http, token);
        var settings = new BenchSettings(BenchWorkload.Orders, concurrency, TimeSpan.Zero, TimeSpan.Zero, BenchSettings.MinimumKeys, 1, true, TimeSpan.FromSeconds(30));
        await target.PrepareAsync(http, endpoints[0], BenchWorkload.Orders, settings, token);

        var fill = Stopwatch.StartNew();
        long next = -1;
        long placed = 0;
        var reporter = Task.Run(async () =>
        {
            while (Interlocked.Read(ref placed) < count && !token.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                note($"  {Interlocked.Read(ref placed):N0} of {count:N0} orders placed ({Interlocked.Read(ref placed) / fill.Elapsed.TotalSeconds:N0}/s)");
            }
        }, token);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (var key = Interlocked.Increment(ref next); key < count; key = Interlocked.Increment(ref next))
            {
                while (true)
                {
                    using var request = target.Request(endpoints[0], BenchWorkload.Orders, key, "");
                    using var response = await http.SendAsync(request, token);
                    if (response.IsSuccessStatusCode) break;
                    await Task.Delay(50, token); // an election or a full queue: try again
                }
                Interlocked.Increment(ref placed);
            }
        }));
        fill.Stop();
        await reporter;

        var leader = await cluster.LeaderAsync(token) ?? throw new BenchException("no leader after filling");
        var follower = (leader + 1) % BenchCluster.Members;
        var node = cluster.Cluster.Nodes[follower];
        var local = cluster.Nodes;
        note($"filled in {fill.Elapsed.TotalSeconds:0.0} s; kill -9 of follower {node.Id} and restart ...");
        local.Kill(node.Id);
        var leaderStatus = await cluster.StatusAsync(cluster.Cluster.Nodes[leader].Uri, token, TimeSpan.FromSeconds(5))
            ?? throw new BenchException("the leader does not answer");
        var dataDirectory = cluster.Cluster.NodeDataDirectory(node.Id);
        var snapshotBytes = DirectorySize(dataDirectory, "snapshot", exclude: "wal");
        var logBytes = DirectorySize(Path.Combine(dataDirectory, "wal"), "", exclude: null);

        var clock = Stopwatch.StartNew();
        local.Start(node.Id);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        double? readyMs = null;
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            if (readyMs is null)
            {
                try
                {
                    using var ready = await probe.GetAsync(new Uri(node.Uri, "/health/ready"), token);
                    if (ready.IsSuccessStatusCode) readyMs = clock.Elapsed.TotalMilliseconds;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }
            var status = await cluster.StatusAsync(node.Uri, token);
            if (readyMs is not null && status is not null && status.AppliedIndex >= leaderStatus.CommitIndex)
            {
                return new Report(count, Math.Round(fill.Elapsed.TotalSeconds, 1), Math.Round(count / fill.Elapsed.TotalSeconds), snapshotBytes, logBytes,
                    Math.Round(readyMs.Value), Math.Round(clock.Elapsed.TotalMilliseconds), leaderStatus.CommitIndex, node.Id);
            }
            await Task.Delay(10, token);
        }
        throw new BenchException($"node {node.Id} did not recover within 5 minutes; see {local.LogPath(node.Id)}");
    }

    private static long DirectorySize(string directory, string nameContains, string? exclude) =>
        !Directory.Exists(directory) ? 0 : new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => f.FullName.Contains(nameContains, StringComparison.Ordinal) && (exclude is null || !f.FullName.Contains($"/{exclude}/", StringComparison.Ordinal)))
            .Sum(f => f.Length);

    public static void Render(Report r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]restart of follower {r.RestartedNode} holding {r.Orders:N0} orders[/]");
        table.AddColumns("process start → ready", "→ caught up", "snapshot", "log", "fill rate");
        table.AddRow($"{r.ProcessStartToReadyMs.ToString("N0", CultureInfo.InvariantCulture)} ms", $"{r.ProcessStartToCaughtUpMs.ToString("N0", CultureInfo.InvariantCulture)} ms",
            $"{r.SnapshotBytes / 1048576.0:0.0} MiB", $"{r.LogBytes / 1048576.0:0.0} MiB", $"{r.OrdersPerSecondWhileFilling:N0} orders/s");
        AnsiConsole.Write(table);
    }
}
