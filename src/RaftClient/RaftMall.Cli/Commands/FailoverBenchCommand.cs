using System.CommandLine;
using System.Globalization;
using RaftMall.Bench;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall bench failover: kill -9 of the leader under load, N trials, for RaftMall and etcd.</summary>
public static class FailoverBenchCommand
{
    public static Command Build()
    {
        var targets = new Option<string>("--targets")
        {
            Description = "Comma-separated: raftmall (the cluster file's timings), etcd (its defaults: 100 ms heartbeat, 1000 ms election), " +
                "etcd-matched (etcd with RaftMall's lower election timeout; heartbeat at most a fifth of it, as etcd requires)",
            DefaultValueFactory = _ => "raftmall",
        };
        var trials = new Option<int>("--trials") { Description = "Kills per target", DefaultValueFactory = _ => 20 };
        var clients = new Option<int>("--clients", "-n") { Description = "Concurrent writers, spread over every member", DefaultValueFactory = _ => 8 };
        var rate = new Option<double>("--rate") { Description = "Total writes per second of the steady load (each one is read back at the end)", DefaultValueFactory = _ => 1_000 };
        var timeout = new Option<string>("--request-timeout")
        {
            Description = "Per-write timeout; a client that times out tries the next member, as a real client would",
            DefaultValueFactory = _ => "1s",
        };
        var command = new Command("failover", """
            Start a scratch 3-member cluster per target (free ports), run steady kv-put load, and kill -9 the leader
            --trials times; the failover time is from the kill to the first acknowledged write sent after the killed process is gone. The
            killed member is restarted before the next trial; at the end every acknowledged write is read back.
            """)
        {
            targets, trials, clients, rate, timeout, BenchCommand.ValueSizeOption,
        };
        command.SetRun(async (ctx, token) =>
        {
            var trialCount = Math.Clamp(ctx.Parse.GetValue(trials), 1, 1_000);
            var clientCount = Math.Clamp(ctx.Parse.GetValue(clients), 1, 256);
            var writesPerSecond = Math.Clamp(ctx.Parse.GetValue(rate), 1, 100_000);
            var reports = new List<FailoverBench.Report>();
            foreach (var name in ctx.Parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await using var cluster = Create(ctx, name);
                BenchCommand.Note(ctx, $"[bold]{Markup.Escape(cluster.Name)}[/]: starting in {Markup.Escape(cluster.Directory)} ...");
                await cluster.StartAsync(token);
                var bench = new FailoverBench(cluster, clientCount, writesPerSecond, ctx.Parse.GetValue(BenchCommand.ValueSizeOption),
                    BenchSettings.ParseDuration(ctx.Parse.GetValue(timeout)!, "--request-timeout"));
                var report = await bench.RunAsync(trialCount, trial => BenchCommand.Note(ctx,
                    $"  trial {trial.Number,2}: {trial.KilledAtUtc:HH:mm:ss.fff} UTC killed {trial.KilledMember}, first write after {trial.FailoverMs,7:0.0} ms, new leader {trial.NewLeader}, term {trial.TermBefore} → {trial.TermAfter}"), token);
                reports.Add(report);
            }
            ctx.Output(reports, () => Render(reports));
            return reports.Any(r => r.LostWrites > 0) ? ExitCodes.VerdictFailed : ExitCodes.Ok;
        });
        return command;
    }

    private static BenchCluster Create(CliContext ctx, string name)
    {
        string Etcd() => EtcdCluster.FindBinary() ?? throw new CliException(ExitCodes.Usage, "etcd is not installed: apt-get install -y etcd-server");
        return name switch
        {
            "raftmall" => ScratchRaftMallCluster.Create(ctx.Cluster, Programs.NodeDll()),
            "etcd" => new EtcdCluster(Etcd(), EtcdCluster.DefaultHeartbeatMs, EtcdCluster.DefaultElectionMs),
            // etcd randomizes its election timeout over [e, 2e), like RaftMall's [lower, upper = 2 x lower], and insists on
            // e >= 5 x heartbeat: so RaftMall's lower timeout, with the heartbeat lowered to fit when needed.
            "etcd-matched" => new EtcdCluster(Etcd(), Math.Min(ctx.Cluster.HeartbeatIntervalMs, ctx.Cluster.ElectionTimeoutLowerMs / 5), ctx.Cluster.ElectionTimeoutLowerMs),
            _ => throw new CliException(ExitCodes.Usage, $"unknown target '{name}': raftmall, etcd or etcd-matched"),
        };
    }

    private static void Render(List<FailoverBench.Report> reports)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]kill -9 of the leader → first acknowledged write[/]");
        table.AddColumns("cluster", "trials", "p50 ms", "p99 ms", "max ms", "acknowledged writes", "lost");
        foreach (var r in reports)
        {
            table.AddRow(Markup.Escape(r.Cluster), r.Trials.Count.ToString(CultureInfo.InvariantCulture), r.P50Ms.ToString("0", CultureInfo.InvariantCulture),
                r.P99Ms.ToString("0", CultureInfo.InvariantCulture), r.MaxMs.ToString("0", CultureInfo.InvariantCulture),
                r.AcknowledgedWrites.ToString("N0", CultureInfo.InvariantCulture), r.LostWrites == 0 ? "[green]0[/]" : $"[red]{r.LostWrites}[/]");
        }
        AnsiConsole.Write(table);
    }
}
