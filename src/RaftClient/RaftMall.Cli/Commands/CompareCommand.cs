using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RaftMall.Bench;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall bench compare: the options of <see cref="CompareBench"/>, its live progress and its report.
/// </summary>
public static class CompareCommand
{

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

            var options = new CompareBench.Options(workloadList, clientList, repeatCount, baseSettings, BenchSettings.ParseDuration(ctx.Parse.GetValue(prime)!, "--prime"));
            var report = await CompareBench.RunAsync(ctx.Cluster, Programs.NodeDll(), etcdBinary, options,
                (target, settings, t) => BenchCommand.RunOneAsync(ctx, target, settings, t), line => BenchCommand.Note(ctx, line), token);
            if (ctx.Parse.GetValue(output) is { } path) await File.WriteAllTextAsync(path, CliContext.ToJson(report), token);
            ctx.Output(report, () => CompareBench.Render(report));
            return ExitCodes.Ok;
        });
        return command;
    }
}
