using System.CommandLine;
using System.Globalization;
using RaftMall.Bench;
using RaftMall.Harness;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall bench failover: kill -9, SIGSTOP or isolation of the leader under load, N trials, for RaftMall and etcd.</summary>
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
        var trials = new Option<int>("--trials") { Description = "Faults per target", DefaultValueFactory = _ => 20 };
        var fault = new Option<string>("--fault")
        {
            Description = "What happens to the leader: kill (kill -9, then a restart), pause (SIGSTOP, then SIGCONT once a new leader is confirmed), " +
                "partition (cut off from the other members both ways, then healed; raftmall only: its nodes run in network namespaces, which need root, ip and iptables)",
            DefaultValueFactory = _ => "kill",
        };
        var clients = new Option<int>("--clients", "-n") { Description = "Concurrent writers, spread over every member", DefaultValueFactory = _ => 8 };
        var rate = new Option<double>("--rate") { Description = "Total writes per second of the steady load (each one is read back at the end)", DefaultValueFactory = _ => 1_000 };
        var timeout = new Option<string>("--request-timeout")
        {
            Description = "Per-write timeout; a client that times out tries the next member, as a real client would",
            DefaultValueFactory = _ => "1s",
        };
        var command = new Command("failover", """
            Start a scratch 3-member cluster per target (free ports), run steady kv-put load, and kill -9 (or pause, or
            isolate: --fault) the leader --trials times; the failover time is from the fault to the first acknowledged write sent
            after the fault was complete (the killed process gone, the paused one stopped, the partition in place). After a pause
            or a partition the step-down time is when the old leader stopped claiming leadership (counted from SIGCONT, or from
            the partition). The member is restarted, resumed or reconnected before the next trial; at the end every
            acknowledged write is read back.
            """)
        {
            targets, trials, fault, clients, rate, timeout, BenchCommand.ValueSizeOption,
        };
        command.SetRun(async (ctx, token) =>
        {
            var trialCount = Math.Clamp(ctx.Parse.GetValue(trials), 1, 1_000);
            var clientCount = Math.Clamp(ctx.Parse.GetValue(clients), 1, 256);
            var writesPerSecond = Math.Clamp(ctx.Parse.GetValue(rate), 1, 100_000);
            var faultKind = ParseFault(ctx.Parse.GetValue(fault)!);
            var names = ctx.Parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (faultKind == FailoverFault.Partition) CheckPartitionable(names);
            var reports = new List<FailoverBench.Report>();
            foreach (var name in names)
            {
                await using var cluster = Create(ctx, name, faultKind == FailoverFault.Partition);
                BenchCommand.Note(ctx, $"[bold]{Markup.Escape(cluster.Name)}[/]: starting in {Markup.Escape(cluster.Directory)} ...");
                await cluster.StartAsync(token);
                var bench = new FailoverBench(cluster, clientCount, writesPerSecond, ctx.Parse.GetValue(BenchCommand.ValueSizeOption),
                    BenchSettings.ParseDuration(ctx.Parse.GetValue(timeout)!, "--request-timeout"), faultKind);
                var report = await bench.RunAsync(trialCount, trial => BenchCommand.Note(ctx, Describe(trial, faultKind)), token);
                reports.Add(report);
            }
            ctx.Output(reports, () => Render(reports));
            return reports.Any(r => r.LostWrites > 0) ? ExitCodes.VerdictFailed : ExitCodes.Ok;
        });
        return command;
    }

    private static FailoverFault ParseFault(string text) => text switch
    {
        "kill" => FailoverFault.Kill,
        "pause" => FailoverFault.Pause,
        "partition" => FailoverFault.Partition,
        _ => throw new CliException(ExitCodes.Usage, $"unknown fault '{text}': kill, pause or partition"),
    };

    /// <summary>Refuses a partition run before any cluster starts: etcd targets, or a machine without network namespaces.</summary>
    private static void CheckPartitionable(IEnumerable<string> names)
    {
        // etcd would have to run inside the namespaces too; until it does, say so rather than measure something else.
        if (names.FirstOrDefault(n => n.StartsWith("etcd", StringComparison.Ordinal)) is { } etcd)
        {
            throw new CliException(ExitCodes.Usage, $"--fault partition is not supported for the {etcd} target (only raftmall's nodes run in network namespaces); use --fault kill or pause for etcd");
        }
        if (Network.Unavailable() is { } reason) throw new CliException(ExitCodes.Usage, $"--fault partition cannot run here: {reason}");
    }

    private static string Describe(FailoverBench.Trial trial, FailoverFault fault)
    {
        var what = fault switch { FailoverFault.Pause => "paused", FailoverFault.Partition => "isolated", _ => "killed" };
        var line = $"  trial {trial.Number,2}: {trial.KilledAtUtc:HH:mm:ss.fff} UTC {what} {trial.KilledMember}, first write after {trial.FailoverMs,7:0.0} ms, new leader {trial.NewLeader}, term {trial.TermBefore} → {trial.TermAfter}";
        var stages = new List<string>();
        if (trial.DetectedMs is { } detected) stages.Add($"election timer fired at {detected:0} ms");
        if (trial.ElectedMs is { } elected) stages.Add($"leader at {elected:0} ms");
        if (trial.CommittedMs is { } committed) stages.Add($"its first commit at {committed:0} ms");
        if (stages.Count > 0) line += $" ({string.Join(", ", stages)})";
        if (fault == FailoverFault.Kill) return line;
        var rejoined = trial.RejoinedAsFollower == true ? "rejoined as follower"
            : trial.NewLeader == trial.KilledMember ? "[red]it leads again[/]" : "[red]did not rejoin as follower within 30 s[/]";
        if (fault == FailoverFault.Pause && trial.ResumedAfterMs < trial.FailoverMs)
        {
            return $"{line}; [red]no write through the others while it was frozen[/]: SIGCONT after {trial.ResumedAfterMs:0} ms, {rejoined}";
        }
        var stepDown = trial.StepDownMs is { } ms ? $"{ms:0.0} ms after {(fault == FailoverFault.Pause ? "SIGCONT" : "the partition")}" : "not within 30 s";
        return $"{line}; old leader stepped down {stepDown}, {rejoined}";
    }

    private static BenchCluster Create(CliContext ctx, string name, bool namespaces)
    {
        string Etcd() => EtcdCluster.FindBinary() ?? throw new CliException(ExitCodes.Usage, "etcd is not installed: apt-get install -y etcd-server");
        return name switch
        {
            "raftmall" => ScratchRaftMallCluster.Create(ctx.Cluster, Programs.NodeDll(), namespaces),
            "etcd" => new EtcdCluster(Etcd(), EtcdCluster.DefaultHeartbeatMs, EtcdCluster.DefaultElectionMs),
            // etcd randomizes its election timeout over [e, 2e), like RaftMall's [lower, upper = 2 x lower], and insists on
            // e >= 5 x heartbeat: so RaftMall's lower timeout, with the heartbeat lowered to fit when needed.
            "etcd-matched" => new EtcdCluster(Etcd(), Math.Min(ctx.Cluster.HeartbeatIntervalMs, ctx.Cluster.ElectionTimeoutLowerMs / 5), ctx.Cluster.ElectionTimeoutLowerMs),
            _ => throw new CliException(ExitCodes.Usage, $"unknown target '{name}': raftmall, etcd or etcd-matched"),
        };
    }

    private static void Render(List<FailoverBench.Report> reports)
    {
        var fault = reports.Count > 0 ? reports[0].Fault : "kill";
        var what = fault switch { "pause" => "SIGSTOP", "partition" => "isolation", _ => "kill -9" };
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{what} of the leader → first acknowledged write[/]");
        table.AddColumns("cluster", "trials", "p50 ms", "p99 ms", "max ms");
        if (fault != "kill")
        {
            // The old leader's step-down: from SIGCONT after a pause (a frozen process says nothing), from the cut after a partition.
            table.AddColumns("down p50", "down p99", "down max");
            table.Caption($"down: ms until the old leader stopped claiming leadership, from {(fault == "pause" ? "SIGCONT" : "the partition")}");
        }
        // From the nodes' logs (RaftMall): a survivor's election timer fired, the new leader took over, it committed.
        table.AddColumns("timer p50", "leader p50", "commit p50");
        table.AddColumns("acknowledged writes", "lost");
        static string Ms(double? ms) => ms?.ToString("0", CultureInfo.InvariantCulture) ?? "-";
        foreach (var r in reports)
        {
            var cells = new List<string> { Markup.Escape(r.Cluster), r.Trials.Count.ToString(CultureInfo.InvariantCulture), Ms(r.P50Ms), Ms(r.P99Ms), Ms(r.MaxMs) };
            if (fault != "kill") cells.AddRange([Ms(r.StepDownP50Ms), Ms(r.StepDownP99Ms), Ms(r.StepDownMaxMs)]);
            cells.AddRange([Ms(r.DetectedP50Ms), Ms(r.ElectedP50Ms), Ms(r.CommittedP50Ms)]);
            cells.Add(r.AcknowledgedWrites.ToString("N0", CultureInfo.InvariantCulture));
            cells.Add(r.LostWrites == 0 ? "[green]0[/]" : $"[red]{r.LostWrites}[/]");
            table.AddRow([.. cells]);
        }
        AnsiConsole.Write(table);
    }
}
