using System.CommandLine;
using RaftMall.Bench;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall bench recovery: the options of <see cref="RecoveryBench"/>, its scratch cluster, and its report.
/// </summary>
public static class RecoveryBenchCommand
{
    public static Command Build()
    {
        var orders = new Option<long>("--orders") { Description = "Orders to place before the restart", DefaultValueFactory = _ => 1_000_000 };
        var clients = new Option<int>("--clients", "-n") { Description = "Concurrent clients while filling", DefaultValueFactory = _ => 128 };
        var command = new Command("recovery", """
            Start a scratch 3-node cluster (the cluster file's timings, free ports), place --orders orders, then kill -9 a
            follower and start it again: report the time from the process start to /health/ready and to having applied
            the leader's commit index, with the sizes of its snapshot and log.
            """)
        {
            orders, clients,
        };
        command.SetRun(async (ctx, token) =>
        {
            var count = Math.Clamp(ctx.Parse.GetValue(orders), 1, 100_000_000);
            var concurrency = Math.Clamp(ctx.Parse.GetValue(clients), 1, 1_024);
            await using var cluster = ScratchRaftMallCluster.Create(ctx.Cluster, Programs.NodeDll());
            BenchCommand.Note(ctx, $"starting a scratch cluster in {Markup.Escape(cluster.Directory)} ...");
            await cluster.StartAsync(token);
            var report = await RecoveryBench.RunAsync(cluster, count, concurrency, line => BenchCommand.Note(ctx, line), token);
            ctx.Output(report, () => RecoveryBench.Render(report));
            return ExitCodes.Ok;
        });
        return command;
    }
}
