using System.CommandLine;
using System.Globalization;
using RaftMall.Verify;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall verify: Jepsen-style fault testing with a linearizability checker.</summary>
public static class VerifyCommand
{
    public static Command Build()
    {
        var duration = new Option<string>("--duration", "-d") { Description = "How long the workload runs: 60s, 2m or seconds", DefaultValueFactory = _ => "60s" };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients", DefaultValueFactory = _ => 8 };
        var nemesis = new Option<string>("--nemesis") { Description = "Faults, comma-separated: kill,pause,partition,restart,crash-all,membership or all", DefaultValueFactory = _ => "all", CompletionSources = { "all", "kill", "pause", "partition", "restart", "crash-all", "membership" } };
        var seed = new Option<int?>("--seed") { Description = "Seed of the fault schedule and workload (default: random; printed)" };
        var output = new Option<string?>("--out", "-o") { Description = "Directory for the history, report, node logs and data (default: a new one under /tmp)" };
        var defaults = new RaftMall.Configuration.ClusterFile();
        var voteDeadline = new Option<int>("--raft-vote-timeout")
        {
            Description = "The cluster's raftVoteTimeoutMs: deadline of one (pre-)vote request in ms (0: DotNext's 5 s for every message)",
            DefaultValueFactory = _ => defaults.RaftVoteTimeoutMs,
        };
        var appendDeadline = new Option<int>("--raft-append-timeout")
        {
            Description = "The cluster's raftAppendTimeoutMs: deadline of one AppendEntries request in ms (0: DotNext's 5 s)",
            DefaultValueFactory = _ => defaults.RaftAppendTimeoutMs,
        };
        var snapshotInterval = new Option<int>("--snapshot-interval")
        {
            Description = "Snapshot every this many entries (small, to exercise snapshots and installs)",
            DefaultValueFactory = _ => 1_000,
        };
        var unsafeReads = new Option<bool>("--unsafe-local-reads")
        {
            Description = "Deliberately unsafe: read with consistency=local from random nodes, to show that the checker catches stale reads",
        };
        var followerReads = new Option<bool>("--unsafe-follower-reads")
        {
            Description = "Deliberately unsafe: start the nodes with RaftMall__UnsafeFollowerReads=true (a follower's linearizable read takes the leader's commit index without a quorum round), to show that the checker catches stale follower reads (--nodes 5 --nemesis partition)",
        };
        var nodeCount = new Option<int>("--nodes") { Description = "Nodes in the cluster, 3 to 9; with 5 or more, half the partitions cut the leader off with one follower", DefaultValueFactory = _ => 3 };
        var verify = new Command("verify", """
            Start a fresh cluster of its own, run a mixed workload (kv reads, unique writes, cas; token, place, pay, cancel,
            expiry) while injecting faults, heal, let it settle, and check: linearizability per key (Wing-Gong/Lowe) and the
            shop invariants (acknowledged orders, stock conservation, tokens, idempotency, identical replicas: at the end, and at
            the log's state checks while it runs).
            Reads go to random nodes. A write counts as failed only after a refusal that certainly applied nothing (a 4xx
            problem, 503 not_leader); a timeout, a lost connection or any other 5xx leaves it unknown.
            Exit code 0 only when the verdict is valid. Partitions use network namespaces and need root.
            """)
        {
            duration, clients, nodeCount, nemesis, seed, output, snapshotInterval, unsafeReads, followerReads, voteDeadline, appendDeadline,
        };
        verify.SetRun(async (ctx, token) =>
        {
            var nemeses = ParseNemeses(ctx.Parse.GetValue(nemesis)!);
            var nodes = ctx.Parse.GetValue(nodeCount);
            if (nodes is < 3 or > 9) throw new CliException(ExitCodes.Usage, $"--nodes is between 3 and 9, not {nodes}");
            var options = new VerifyOptions
            {
                Duration = ParseDuration(ctx.Parse.GetValue(duration)!),
                Clients = Math.Clamp(ctx.Parse.GetValue(clients), 1, 64),
                Nemeses = nemeses,
                Seed = ctx.Parse.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                OutDirectory = Path.GetFullPath(ctx.Parse.GetValue(output) ?? Path.Combine(Path.GetTempPath(), $"raftmall-verify-{DateTime.UtcNow:yyyyMMdd-HHmmss}")),
                NodeDll = Programs.NodeDll(),
                Nodes = nodes,
                UnsafeLocalReads = ctx.Parse.GetValue(unsafeReads),
                UnsafeFollowerReads = ctx.Parse.GetValue(followerReads),
                SnapshotIntervalEntries = Math.Max(10, ctx.Parse.GetValue(snapshotInterval)),
                RaftVoteTimeoutMs = ctx.Parse.GetValue(voteDeadline),
                RaftAppendTimeoutMs = ctx.Parse.GetValue(appendDeadline),
            };
            if (!File.Exists(options.NodeDll)) throw new CliException(ExitCodes.Usage, $"the node is not built ({options.NodeDll}); run `dotnet build src/RaftNode -c Release`");
            void Log(string line)
            {
                if (!ctx.Json) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
            }
            VerifyReport report;
            try
            {
                report = await ctx.WithProgressAsync($"verify: {options.Duration.TotalSeconds:F0} s of load with {string.Join(",", options.Nemeses.Order(StringComparer.Ordinal))}, then checks",
                    () => new VerifyRunner(options, Log).RunAsync(token));
            }
            catch (ClusterFileException e)
            {
                throw new CliException(ExitCodes.Usage, e.Message); // a setting the nodes would refuse, e.g. --raft-append-timeout 10
            }
            catch (Exception e) when (e is InvalidOperationException or RaftMall.Harness.HarnessException)
            {
                throw new CliException(ExitCodes.Unavailable, $"verify could not run: {e.Message}");
            }
            ctx.Output(report, () => Render(report));
            return report.Verdict == Verdict.Valid ? ExitCodes.Ok : ExitCodes.VerdictFailed;
        });
        return verify;
    }

    private static void RenderGaps(IReadOnlyList<WriteGap> gaps)
    {
        foreach (var gap in gaps)
        {
            AnsiConsole.MarkupLine($"  {gap.Milliseconds,8:F0} ms  [grey]{gap.FromSeconds:F3}–{gap.ToSeconds:F3} s, {Impaired(gap.MostNodesImpaired)}[/]  {Markup.Escape(string.Join("; ", gap.Faults.DefaultIfEmpty("no fault")))}");
        }
    }

    private static string Impaired(int nodes) => nodes switch { 0 => "no node impaired", 1 => "1 node impaired", _ => $"{nodes} nodes impaired at once" };

    private static void Render(VerifyReport report)
    {
        AnsiConsole.MarkupLine("\n[bold]fault timeline[/]");
        foreach (var e in report.Timeline) AnsiConsole.MarkupLine($"  [grey]{e.AtSeconds,7:F3} s  {e.AtUtc}[/] {Markup.Escape(e.What)}");
        AnsiConsole.MarkupLine("\n[bold]longest windows without an acknowledged write[/] of the workload's clients (1 s per attempt, retries), and the faults in effect");
        RenderGaps(report.LongestWriteGaps);
        AnsiConsole.MarkupLine($"\n[bold]longest windows in which no node took a write[/] (probe: every node every {AvailabilityProbe.Interval.TotalMilliseconds:F0} ms, {AvailabilityProbe.AttemptTimeout.TotalMilliseconds:F0} ms each, no retries)");
        RenderGaps(report.LongestProbeGaps);
        AnsiConsole.MarkupLine("\n[bold]the same, around single-node faults only[/] (at most one node down, frozen, cut off, removed, or restarted and not yet caught up, at a time): workload, then probe");
        RenderGaps(report.LongestSingleFaultWriteGaps.Take(3).ToList());
        RenderGaps(report.LongestSingleFaultProbeGaps.Take(3).ToList());
        var counts = new Table().Border(TableBorder.Rounded).AddColumns("operation:outcome", "count");
        foreach (var (kind, count) in report.OperationsByOutcome) counts.AddRow(kind, count.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(counts);
        AnsiConsole.MarkupLine($"{report.Operations} operations, {report.Faults} faults ({string.Join(",", report.Nemeses)}), seed {report.Seed}, {report.DurationSeconds} s");
        if (report.SkippedNemesis is not null) AnsiConsole.MarkupLine($"[yellow]partition nemesis skipped: {Markup.Escape(report.SkippedNemesis)}[/]");
        AnsiConsole.MarkupLine($"linearizability: {report.KeysChecked} keys checked, {report.NonLinearizableKeys.Count} not linearizable, {report.UnknownKeys.Count} unknown (budget ran out)");
        foreach (var violation in report.ShopViolations.Take(20)) AnsiConsole.MarkupLine($"[red]shop: {Markup.Escape(violation)}[/]");
        foreach (var d in report.Deliveries)
        {
            AnsiConsole.MarkupLine($"delivery to {Markup.Escape(d.Subscription)}: {d.Applied} messages applied ({d.Acknowledged} acknowledged), {d.Duplicates} duplicates absorbed, " +
                (d.Ok ? "[green]none lost, in order[/]" : $"[red]{d.Lost.Length} lost, {d.OutOfOrder.Length} out of order, {d.AppliedTwice.Length} twice[/]"));
        }
        foreach (var violation in report.DeliveryViolations.Take(20)) AnsiConsole.MarkupLine($"[red]delivery: {Markup.Escape(violation)}[/]");
        if (report.SmallestFailingHistory.Count > 0)
        {
            AnsiConsole.MarkupLine($"[red]smallest failing key {Markup.Escape(report.SmallestFailingHistory[0].Key ?? "")}: {report.SmallestFailingHistory.Count} operations[/]");
            foreach (var op in report.SmallestFailingHistory.OrderBy(o => o.InvokeNs).Take(60))
            {
                var end = op.Outcome == Outcome.Unknown ? "?" : $"{op.CompleteNs / 1e6:F1}";
                AnsiConsole.MarkupLine(Markup.Escape($"  p{op.Process} [{op.InvokeNs / 1e6:F1} .. {end} ms] {op.Kind} {op.Value ?? "nil"}{(op.Kind == Kinds.Cas ? $" if {op.Expected ?? "nil"} -> {op.Succeeded}" : "")} {op.Outcome.ToString().ToLowerInvariant()}"));
            }
        }
        AnsiConsole.MarkupLine($"history and report: {Markup.Escape(report.OutDirectory)}");
        var color = report.Verdict == Verdict.Valid ? "green" : "red";
        AnsiConsole.MarkupLine($"[bold {color}]verdict: {report.Verdict.ToString().ToLowerInvariant()}[/]");
    }

    private static HashSet<string> ParseNemeses(string text)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part is "all") set.UnionWith(Nemeses.All);
            else if (part is "none") continue;
            else if (Nemeses.All.Contains(part)) set.Add(part);
            else throw new CliException(ExitCodes.Usage, $"unknown nemesis '{part}'; choose from {string.Join(", ", Nemeses.All)}, all or none");
        }
        return set;
    }

    private static TimeSpan ParseDuration(string text)
    {
        var number = text.TrimEnd('s', 'm');
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new CliException(ExitCodes.Usage, $"duration '{text}' is not like 60s, 2m or 60");
        }
        var duration = text.EndsWith('m') ? TimeSpan.FromMinutes(value) : TimeSpan.FromSeconds(value);
        if (duration < TimeSpan.FromSeconds(5) || duration > TimeSpan.FromHours(6)) throw new CliException(ExitCodes.Usage, "duration is between 5s and 6h");
        return duration;
    }
}
