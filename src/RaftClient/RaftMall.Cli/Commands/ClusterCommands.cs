using System.CommandLine;
using System.Diagnostics;
using RaftMall.Cli.Demos;
using RaftMall.Client;
using RaftMall.Harness;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall cluster up|status|down|kill|kill-leader|restart|add-node.</summary>
public static class ClusterCommands
{
    public static Command Build()
    {
        var cluster = new Command("cluster", "Start, inspect and break the local cluster described by cluster.yml");

        var demo = new Option<bool>("--demo") { Description = "Start nodes with the demo switch: the dashboard's kill, start and order-stream controls" };
        var up = new Command("up", "Start every node of the cluster file as a background process and wait for a leader") { demo };
        up.SetRun(async (ctx, token) =>
        {
            var local = new LocalCluster(ctx.Cluster) { Demo = ctx.Parse.GetValue(demo) };
            foreach (var node in ctx.Cluster.Nodes) local.Start(node.Id);
            var statuses = await ctx.WithProgressAsync($"starting {ctx.Cluster.Nodes.Count} nodes and waiting for a leader", async () =>
            {
                await EnsureOwnNodesAnswerAsync(ctx, token);
                return await WaitForLeaderAsync(ctx, TimeSpan.FromSeconds(30), token);
            });
            ctx.Output(statuses, () =>
            {
                RenderStatus(ctx, statuses);
                CliContext.Info($"logs and pids: [grey]{Markup.Escape(Path.GetDirectoryName(ctx.Cluster.NodeDataDirectory(ctx.Cluster.Nodes[0].Id))!)}[/]/<node>/node.log");
                if (ctx.Local.EnsureCredentials() is { } credentials)
                {
                    // Plain lines: Spectre would wrap a long URL at the terminal's width and break copy and paste.
                    Console.WriteLine($"credentials (API keys, peer secret): {ctx.Cluster.CredentialsPath} (mode 0600)");
                    // The demo controls kill and start nodes: they need the admin key; otherwise the page only reads.
                    var role = local.Demo ? ClientRole.Admin : ClientRole.Reader;
                    var url = DashboardDemoCommand.Url(ctx.Cluster, credentials, role);
                    Console.WriteLine($"dashboard ({(local.Demo ? "admin key, demo controls" : "read-only key")}): {url}");
                }
            });
            return ExitCodes.Ok;
        });

        var status = new Command("status", "Show every node: role, term, commit and applied index, health");
        status.SetRun(async (ctx, token) =>
        {
            var statuses = await CollectAsync(ctx, token);
            if (statuses.All(s => s.Status is null)) throw new RaftMallUnavailableException("no_answer", "no node answered");
            ctx.Output(statuses, () => RenderStatus(ctx, statuses));
            return ExitCodes.Ok;
        });

        var down = new Command("down", "Stop every node started by `cluster up` (gracefully, then kill -9)");
        down.SetRun((ctx, _) =>
        {
            var stopped = ctx.Local.AllNodes().Where(n => ctx.Local.Stop(n.Id, TimeSpan.FromSeconds(5))).Select(n => n.Id).ToList();
            ctx.Output(new StoppedNodes(stopped), () => CliContext.Info(stopped.Count == 0 ? "no node was running" : $"stopped {string.Join(", ", stopped)}"));
            return Task.FromResult(ExitCodes.Ok);
        });

        var nodeArgument = new Argument<string>("node") { Description = "A node id from the cluster file, e.g. n1" };
        var kill = new Command("kill", "kill -9 one node (no flush, no goodbye)") { nodeArgument };
        kill.SetRun((ctx, _) =>
        {
            var id = ValidNode(ctx, ctx.Parse.GetValue(nodeArgument)!).Id;
            var killed = ctx.Local.Kill(id);
            ctx.Output(new KilledNode(id, killed), () => CliContext.Info(killed ? $"killed {id}" : $"{id} was not running"));
            return Task.FromResult(killed ? ExitCodes.Ok : ExitCodes.Failure);
        });

        var killLeader = new Command("kill-leader", "kill -9 the current leader");
        killLeader.SetRun(async (ctx, token) =>
        {
            var leader = (await CollectAsync(ctx, token)).Select(s => s.Status).FirstOrDefault(s => s?.Role == "leader")
                ?? throw new CliException(ExitCodes.Unavailable, "no node reports itself leader right now");
            ctx.Local.Kill(leader.NodeId);
            ctx.Output(new KilledLeader(leader.NodeId, leader.Term), () => CliContext.Info($"killed leader [bold]{leader.NodeId}[/] (term {leader.Term})"));
            return ExitCodes.Ok;
        });

        var restart = new Command("restart", "Restart one node (graceful stop if it runs, then start) and wait until it answers") { nodeArgument, demo };
        restart.SetRun(async (ctx, token) =>
        {
            var node = ValidNode(ctx, ctx.Parse.GetValue(nodeArgument)!);
            var id = node.Id;
            ctx.Local.Stop(id, TimeSpan.FromSeconds(5));
            new LocalCluster(ctx.Cluster) { Demo = ctx.Parse.GetValue(demo) }.Start(id);
            var uri = node.Uri;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                if (await TryStatusAsync(ctx, uri, token) is { LeaderId: not null } s)
                {
                    ctx.Output(s, () => CliContext.Info($"{id} is back as {s.Role} (term {s.Term}) after {clock.ElapsedMilliseconds} ms"));
                    return ExitCodes.Ok;
                }
                await Task.Delay(100, token);
            }
            throw new CliException(ExitCodes.Unavailable, $"{id} did not come back within 30 s; see {ctx.Local.LogPath(id)}");
        });

        var credentials = new Command("credentials", "Create the cluster's credentials file (peer secret; admin, writer and reader keys; mode 0600) when it is missing, and say where it is");
        credentials.SetRun((ctx, _) =>
        {
            var path = ctx.Cluster.CredentialsPath;
            var created = !File.Exists(path);
            var keys = ClusterCredentials.EnsureFor(ctx.Cluster).ApiKeys.Select(k => new CredentialsFileOutput.Key(k.Name, k.Role.ToString().ToLowerInvariant())).ToList();
            ctx.Output(new CredentialsFileOutput(path, created, keys), () =>
                CliContext.Info($"{(created ? "created" : "exists:")} [bold]{Markup.Escape(path)}[/] (mode 0600; keys: {string.Join(", ", keys.Select(k => $"{k.Name} ({k.Role})"))})"));
            return Task.FromResult(ExitCodes.Ok);
        });

        cluster.Add(up);
        cluster.Add(credentials);
        cluster.Add(status);
        cluster.Add(down);
        cluster.Add(kill);
        cluster.Add(killLeader);
        cluster.Add(restart);
        cluster.Add(AddNodeCommand.Build(demo));
        return cluster;
    }

    /// <param name="ProcessRunning">Whether this machine runs the node's process; null for a node given by --endpoints.</param>
    public sealed record NodeView(string NodeId, string Address, bool? ProcessRunning, ClusterStatus? Status);

    /// <summary>Every node's status: the cluster file's nodes and their local processes, or the --endpoints as they answer.</summary>
    public static async Task<List<NodeView>> CollectAsync(CliContext ctx, CancellationToken token)
    {
        if (ctx.Connection.Cluster is null)
        {
            return [.. await Task.WhenAll(ctx.Connection.Endpoints.Select(async uri =>
            {
                var status = await TryStatusAsync(ctx, uri, token);
                return new NodeView(status?.NodeId ?? "?", uri.GetLeftPart(UriPartial.Authority), null, status);
            }))];
        }
        var tasks = ctx.Local.AllNodes().Select(async n => new NodeView(n.Id, n.Address, ctx.Local.RunningPid(n.Id) is not null, await TryStatusAsync(ctx, n.Uri, token)));
        return [.. await Task.WhenAll(tasks)];
    }

    public static Task<ClusterStatus?> TryStatusAsync(CliContext ctx, Uri node, CancellationToken token) => ctx.Connection.TryStatusAsync(node, token);

    /// <summary>
    /// Waits until every node answers from the process started for it. A node whose process died (its port taken by
    /// another process, say) or whose port answers from another process is an error, not a silent success.
    /// </summary>
    public static async Task EnsureOwnNodesAnswerAsync(CliContext ctx, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        foreach (var node in ctx.Cluster.Nodes)
        {
            while (true)
            {
                var pid = ctx.Local.RunningPid(node.Id);
                if (pid is null) ctx.Local.EnsureRunning([node.Id]); // throws with the node's last log lines
                var status = await TryStatusAsync(ctx, node.Uri, token);
                if (status is not null && status.ProcessId == pid) break;
                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new CliException(ExitCodes.Failure, status is null
                        ? $"node {node.Id} (pid {pid}) does not answer at {node.Address}; see {ctx.Local.LogPath(node.Id)}"
                        : $"{node.Address} is answered by another process (pid {status.ProcessId}), not by node {node.Id} (pid {pid}): stop that cluster first");
                }
                await Task.Delay(100, token);
            }
        }
    }

    /// <summary>Waits until a majority of the nodes answer and agree on one leader; returns every node's view for display.</summary>
    public static async Task<List<NodeView>> WaitForLeaderAsync(CliContext ctx, TimeSpan timeout, CancellationToken token)
    {
        var nodes = ctx.Cluster.Nodes.ToDictionary(n => n.Id, n => n.Uri);
        var leader = await Leadership.WaitForLeaderOfQuorumAsync(
            (id, t) => TryStatusAsync(ctx, nodes[id], t), nodes.Keys, ctx.Cluster.Nodes.Count / 2 + 1, timeout, token);
        if (leader is null)
        {
            throw new CliException(ExitCodes.Unavailable, $"no leader within {timeout.TotalSeconds:F0} s; node logs are in {Path.GetDirectoryName(ctx.Local.LogPath(ctx.Cluster.Nodes[0].Id))}/..");
        }
        return await CollectAsync(ctx, token);
    }

    public static void RenderStatus(CliContext ctx, IEnumerable<NodeView> nodes)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("node", "address", "role", "term", "commit", "applied", "healthy");
        foreach (var n in nodes)
        {
            var s = n.Status;
            var role = s is null ? n.ProcessRunning switch { true => "[yellow]starting[/]", false => "[red]down[/]", null => "[red]no answer[/]" } : s.Role == "leader" ? "[bold green]leader[/]" : s.Role;
            var healthy = s is not null && s.LeaderId is not null && s.AppliedIndex >= s.CommitIndex;
            table.AddRow(n.NodeId, n.Address, role, s?.Term.ToString() ?? "-", s?.CommitIndex.ToString() ?? "-", s?.AppliedIndex.ToString() ?? "-",
                healthy ? "[green]yes[/]" : "[red]no[/]");
        }
        AnsiConsole.Write(table);
        var leader = nodes.Select(n => n.Status).FirstOrDefault(s => s?.Role == "leader");
        var known = nodes.Select(n => n.Status).Where(s => s?.LeaderId is not null).MaxBy(s => s!.Term);
        CliContext.Info(leader is not null ? $"leader: [bold green]{leader.NodeId}[/] (term {leader.Term})"
            : known is not null ? $"leader: [bold green]{Markup.Escape(known.LeaderId!)}[/] (term {known.Term}; not among the nodes asked)"
            : "[yellow]no leader right now[/]");
    }

    /// <summary>A node of the cluster file, or one started here by <c>cluster add-node</c>.</summary>
    private static ClusterNode ValidNode(CliContext ctx, string id)
    {
        var nodes = ctx.Local.AllNodes();
        return nodes.FirstOrDefault(n => n.Id == id)
            ?? throw new CliException(ExitCodes.Usage, $"no node '{id}' in {ctx.Cluster.SourcePath} or started by cluster add-node; nodes: {string.Join(", ", nodes.Select(n => n.Id))}");
    }
}
