using System.CommandLine;
using System.Net;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall demo dashboard: the local cluster with the demo switch on, and where its dashboard is. The nodes keep
/// running after the command returns (like `cluster up --demo`); the page's buttons kill and restart them and start
/// a stream of orders; `raftmall cluster down` stops everything.
/// </summary>
public static class DashboardDemoCommand
{
    public static Command Build()
    {
        var dashboard = new Command("dashboard", "Start the local cluster with the demo switch on and print the dashboard's address (stop it with `cluster down`)");
        dashboard.SetRun(async (ctx, token) =>
        {
            var local = new LocalCluster(ctx.Cluster) { Demo = true };
            foreach (var node in ctx.Cluster.Nodes) local.Start(node.Id);
            await ClusterCommands.EnsureOwnNodesAnswerAsync(ctx, token);
            var statuses = await ClusterCommands.WaitForLeaderAsync(ctx, TimeSpan.FromSeconds(30), token);
            var withoutDemo = await NodesWithoutDemoAsync(ctx, token);
            if (withoutDemo.Count > 0)
            {
                throw new CliException(ExitCodes.Failure,
                    $"{string.Join(", ", withoutDemo)} already run without the demo switch; stop them with `raftmall cluster down` and run this again");
            }
            var url = ctx.Cluster.Nodes[0].Uri.GetLeftPart(UriPartial.Authority) + "/";
            ctx.Output(new { dashboard = url, nodes = statuses }, () =>
            {
                ClusterCommands.RenderStatus(ctx, statuses);
                CliContext.Info($"dashboard: [bold]{Markup.Escape(url)}[/] (every node serves it); demo controls are on");
                CliContext.Info("stop the cluster with [bold]raftmall cluster down[/]");
            });
            return ExitCodes.Ok;
        });
        return dashboard;
    }

    /// <summary>Nodes that were already running, started without the switch: their /api/demo does not exist.</summary>
    private static async Task<List<string>> NodesWithoutDemoAsync(CliContext ctx, CancellationToken token)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var missing = new List<string>();
        foreach (var node in ctx.Cluster.Nodes)
        {
            using var response = await http.GetAsync(new Uri(node.Uri, "/api/demo"), token);
            if (response.StatusCode == HttpStatusCode.NotFound) missing.Add(node.Id);
        }
        return missing;
    }
}
