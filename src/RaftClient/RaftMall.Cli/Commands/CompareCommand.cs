using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RaftMall.Bench;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall bench compare: starts a 3-node RaftMall and a 3-member etcd side by side on this machine, runs the same
/// workloads against both, alternating, and prints the medians and the RaftMall/etcd ratio per row.
/// </summary>
public static class CompareCommand
{
    public sealed record Row(string Workload, int Clients, BenchResult RaftMall, BenchResult? Etcd, string EtcdWorkload)
    {
        public double? Ratio => Etcd is { OpsPerSecond: > 0 } e ? Math.Round(RaftMall.OpsPerSecond / e.OpsPerSecond, 2) : null;
    }

    private static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public sealed record Report(string Machine, IReadOnlyList<Row> Medians, IReadOnlyList<BenchResult> Runs);

    public static Command Build()
    {
        var workloads = new Option<string>("--workloads") { Description = "Comma-separated workloads", DefaultValueFactory = _ => "kv-put,kv-get,orders" };
        var clients = new Option<string>("--clients-list") { Description = "Comma-separated client counts", DefaultValueFactory = _ => "1,16,64,256" };
        var repeats = new Option<int>("--repeats") { Description = "Runs per cell (the table shows medians)", DefaultValueFactory = _ => 3 };
        var duration = new Option<string>("--duration", "-d") { Description = "Measured time per run", DefaultValueFactory = _ => "10s" };
        var warmup = new Option<string>("--warmup") { Description = "Unmeasured load before each run", DefaultValueFactory = _ => "2s" };
        var output = new Option<string?>("--out") { Description = "Also write every run and the medians as JSON to this file" };
        var prime = new Option<string>("--prime")
        {
            Description = "Unmeasured load on each cluster once it started, spread over the workloads (RaftMall's JIT compiles its hot paths in the first seconds; etcd is compiled ahead of time)",
            DefaultValueFactory = _ => "20s",
        };
        var command = new Command("compare", """
            Start RaftMall (3 nodes, fsync on, the timings of the cluster file, free ports) and etcd (3 members, defaults)
            on this machine and run the same workloads against both, alternating, `--repeats` times each; print the
            median of each cell and the RaftMall/etcd throughput ratio (RaftMall's orders against etcd's kv-put).
            Needs etcd (apt-get install etcd-server); bench/compare-etcd.sh installs it and runs this.
            """)
        {
            workloads, clients, repeats, duration, warmup, prime, output, BenchCommand.KeysOption, BenchCommand.ValueSizeOption,
        };
        command.SetRun(async (ctx, token) =>
        {
            var workloadList = ctx.Parse.GetValue(workloads)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchSettings.ParseWorkload).ToArray();
            var clientList = ctx.Parse.GetValue(clients)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= BenchSettings.MaximumClients
                    ? n : throw new CliException(ExitCodes.Usage, $"--clients-list: '{c}' is not a client count")).ToArray();
            var repeatCount = Math.Clamp(ctx.Parse.GetValue(repeats), 1, 20);
            var baseSettings = new BenchSettings(BenchWorkload.KvPut, 1, BenchSettings.ParseDuration(ctx.Parse.GetValue(duration)!, "--duration"),
                BenchSettings.ParseDuration(ctx.Parse.GetValue(warmup)!, "--warmup"), Math.Max(BenchSettings.MinimumKeys, ctx.Parse.GetValue(BenchCommand.KeysOption)),
                ctx.Parse.GetValue(BenchCommand.ValueSizeOption), LeaderOnly: true, TimeSpan.FromSeconds(10));
            var etcdBinary = EtcdCluster.FindBinary() ?? throw new CliException(ExitCodes.Usage, "etcd is not installed: apt-get install -y etcd-server (or run bench/compare-etcd.sh)");

            await using var raftMall = ScratchRaftMallCluster.Create(ctx.Cluster, Programs.NodeDll());
            await using var etcd = new EtcdCluster(etcdBinary, EtcdCluster.DefaultHeartbeatMs, EtcdCluster.DefaultElectionMs);
            BenchCommand.Note(ctx, $"starting RaftMall ({raftMall.Directory}) and {etcd.Name} ({etcd.Directory}) ...");
            await raftMall.StartAsync(token);
            await etcd.StartAsync(token);

            var primeTime = BenchSettings.ParseDuration(ctx.Parse.GetValue(prime)!, "--prime");
            if (primeTime > TimeSpan.Zero)
            {
                BenchCommand.Note(ctx, $"priming both clusters for {primeTime.TotalSeconds:0} s each (not measured) ...");
                foreach (var cluster in new BenchCluster[] { raftMall, etcd })
                {
                    var supported = workloadList.Where(cluster.Target.Supports).ToArray();
                    foreach (var workload in supported)
                    {
                        var priming = baseSettings with { Workload = workload, Clients = 16, Warmup = TimeSpan.Zero, Duration = primeTime / supported.Length };
                        await BenchCommand.RunOneAsync(ctx, cluster.Target, priming, token);
                    }
                }
            }

            var runs = new List<BenchResult>();
            for (var repeat = 0; repeat < repeatCount; repeat++)
            {
                foreach (var workload in workloadList)
                {
                    foreach (var clientCount in clientList)
                    {
                        var settings = baseSettings with { Workload = workload, Clients = clientCount };
                        // Alternate who goes first so that drift of the machine (page cache, thermal) is shared.
                        BenchCluster[] order = repeat % 2 == 0 ? [raftMall, etcd] : [etcd, raftMall];
                        foreach (var cluster in order)
                        {
                            if (!cluster.Target.Supports(workload)) continue;
                            var result = await BenchCommand.RunOneAsync(ctx, cluster.Target, settings, token);
                            runs.Add(result);
                            BenchCommand.Note(ctx, $"  repeat {repeat + 1}/{repeatCount} {result.Target,-8} {result.Workload,-6} ×{clientCount,-3} {result.OpsPerSecond,9:N0} ops/s  p50 {result.LatencyMs.P50:0.00} ms  p99 {result.LatencyMs.P99:0.00} ms  errors {result.ErrorCount}");
                        }
                    }
                }
            }

            var report = new Report($"{Environment.ProcessorCount} cores, {Environment.OSVersion}", Medians(runs, workloadList, clientList), runs);
            if (ctx.Parse.GetValue(output) is { } path) await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, JsonOutput), token);
            ctx.Output(report, () => Render(report));
            return ExitCodes.Ok;
        });
        return command;
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

    private static void Render(Report report)
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
