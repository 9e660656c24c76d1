using System.Globalization;
using Spectre.Console;

namespace RaftMall.Bench;

/// <summary>
/// RaftMall against etcd: a scratch 3-node RaftMall and a 3-member etcd side by side on this machine, the same
/// workloads against both, alternating who goes first, and the median of each cell with the RaftMall/etcd ratio.
/// </summary>
public static class CompareBench
{
    public sealed record Row(string Workload, int Clients, BenchResult RaftMall, BenchResult? Etcd, string EtcdWorkload)
    {
        public double? Ratio => Etcd is { OpsPerSecond: > 0 } e ? Math.Round(RaftMall.OpsPerSecond / e.OpsPerSecond, 2) : null;
    }

    public sealed record Report(string Machine, IReadOnlyList<Row> Medians, IReadOnlyList<BenchResult> Runs);

    /// <param name="Settings">Every run's settings but the workload and client count.</param>
    /// <param name="Prime">Unmeasured load on each cluster once it started, spread over the workloads.</param>
    public sealed record Options(BenchWorkload[] Workloads, int[] Clients, int Repeats, BenchSettings Settings, TimeSpan Prime);

    /// <summary>Starts both clusters, primes them and runs every cell <see cref="Options.Repeats"/> times with <paramref name="runOne"/>.</summary>
    public static async Task<Report> RunAsync(
        ClusterFile settingsFrom, string nodeDll, string etcdBinary, Options options,
        Func<BenchTarget, BenchSettings, CancellationToken, Task<BenchResult>> runOne, Action<string> note, CancellationToken token)
    {
        await using var raftMall = ScratchRaftMallCluster.Create(settingsFrom, nodeDll);
        await using var etcd = new EtcdCluster(etcdBinary, EtcdCluster.DefaultHeartbeatMs, EtcdCluster.DefaultElectionMs);
        note($"starting RaftMall ({raftMall.Directory}) and {etcd.Name} ({etcd.Directory}) ...");
        await raftMall.StartAsync(token);
        await etcd.StartAsync(token);

        if (options.Prime > TimeSpan.Zero)
        {
            note($"priming both clusters for {options.Prime.TotalSeconds:0} s each (not measured) ...");
            foreach (var cluster in new BenchCluster[] { raftMall, etcd })
            {
                var supported = options.Workloads.Where(cluster.Target.Supports).ToArray();
                foreach (var workload in supported)
                {
                    var priming = options.Settings with { Workload = workload, Clients = 16, Warmup = TimeSpan.Zero, Duration = options.Prime / supported.Length };
                    await runOne(cluster.Target, priming, token);
                }
            }
        }

        var runs = new List<BenchResult>();
        for (var repeat = 0; repeat < options.Repeats; repeat++)
        {
            foreach (var workload in options.Workloads)
            {
                foreach (var clientCount in options.Clients)
                {
                    var settings = options.Settings with { Workload = workload, Clients = clientCount };
                    // Alternate who goes first so that drift of the machine (page cache, thermal) is shared.
                    BenchCluster[] order = repeat % 2 == 0 ? [raftMall, etcd] : [etcd, raftMall];
                    foreach (var cluster in order)
                    {
                        if (!cluster.Target.Supports(workload)) continue;
                        var result = await runOne(cluster.Target, settings, token);
                        runs.Add(result);
                        note($"  repeat {repeat + 1}/{options.Repeats} {result.Target,-8} {result.Workload,-6} ×{clientCount,-3} {result.OpsPerSecond,9:N0} ops/s  p50 {result.LatencyMs.P50:0.00} ms  p99 {result.LatencyMs.P99:0.00} ms  errors {result.ErrorCount}");
                    }
                }
            }
        }

        return new Report($"{Environment.ProcessorCount} cores, {Environment.OSVersion}", Medians(runs, options.Workloads, options.Clients), runs);
    }

    private static List<Row> Medians(List<BenchResult> runs, BenchWorkload[] workloads, int[] clients)
    {
        var rows = new List<Row>();
        foreach (var workload in workloads)
        {
            var name = BenchSettings.Name(workload);
            var etcdWorkload = workload == BenchWorkload.Orders ? "kv-put" : name;
            foreach (var count in clients)
            {
                var ours = Median(runs.Where(r => r.Target == "raftmall" && r.Workload == name && r.Clients == count).ToList());
                if (ours is null) continue;
                var theirs = Median(runs.Where(r => r.Target == "etcd" && r.Workload == etcdWorkload && r.Clients == count).ToList());
                rows.Add(new Row(name, count, ours, theirs, etcdWorkload));
            }
        }
        return rows;
    }

    /// <summary>The run with the median throughput (its latencies come with it, so one row is one real run).</summary>
    private static BenchResult? Median(List<BenchResult> runs) =>
        runs.Count == 0 ? null : runs.OrderBy(r => r.OpsPerSecond).ElementAt(runs.Count / 2);

    public static void Render(Report report)
    {
        // Narrow enough for 80 columns (logs, pipes); --json has every field.
        var table = new Table().Border(TableBorder.Simple).Title("[bold]RaftMall vs etcd[/] (median run of the repeats)");
        table.AddColumns("workload", "n", "RaftMall/s", "p50 ms", "p99 ms", "etcd/s", "p50 ms", "p99 ms", "ratio");
        static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
        foreach (var row in report.Medians)
        {
            var workload = row.Workload == row.EtcdWorkload ? row.Workload : $"{row.Workload}*";
            table.AddRow(workload, row.Clients.ToString(CultureInfo.InvariantCulture), F(row.RaftMall.OpsPerSecond, "N0"), F(row.RaftMall.LatencyMs.P50, "0.00"),
                F(row.RaftMall.LatencyMs.P99, "0.0"), row.Etcd is { } e ? F(e.OpsPerSecond, "N0") : "-", row.Etcd is { } e50 ? F(e50.LatencyMs.P50, "0.00") : "-",
                row.Etcd is { } e99 ? F(e99.LatencyMs.P99, "0.0") : "-", row.Ratio is { } ratio ? $"{ratio:0.00}x" : "-");
        }
        AnsiConsole.Write(table);
        if (report.Medians.Any(r => r.Workload != r.EtcdWorkload)) AnsiConsole.MarkupLine("* against etcd's kv-put (etcd has no orders)");
        var errors = report.Runs.Where(r => r.ErrorCount > 0).ToList();
        AnsiConsole.MarkupLine(errors.Count == 0 ? "no errors in any run" : $"[yellow]{errors.Count} run(s) had errors[/] (see --json)");
        var elections = report.Runs.Where(r => r.Elections > 0).ToList();
        AnsiConsole.MarkupLine(elections.Count == 0 ? "no election during any run" : $"[yellow]elections during {elections.Count} run(s)[/]: " +
            string.Join(", ", elections.Select(r => $"{r.Target} {r.Workload} ×{r.Clients}")));
    }
}
