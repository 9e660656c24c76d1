using System.CommandLine;
using System.Net;
using RaftMall.Cli.Commands;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Demos;

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
            var credentials = local.EnsureCredentials();
            var withoutDemo = await NodesWithoutDemoAsync(ctx, credentials?.KeyFor(ClientRole.Reader), token);
            if (withoutDemo.Count > 0)
            {
                throw new CliException(ExitCodes.Failure,
                    $"{string.Join(", ", withoutDemo)} already run without the demo switch; stop them with `raftmall cluster down` and run this again");
            }
            var url = Url(ctx.Cluster, credentials, ClientRole.Admin);
            ctx.Output(new DashboardOutput(url, statuses), () =>
            {
                ClusterCommands.RenderStatus(ctx, statuses);
                CliContext.Info($"dashboard (admin key, demo controls): [link]{Markup.Escape(url)}[/] (every node serves it)");
                CliContext.Info("stop the cluster with [bold]raftmall cluster down[/]");
            });
            return ExitCodes.Ok;
        });
        return dashboard;
    }

    /// <summary>The first node's dashboard, with a key of <paramref name="role"/> in the fragment when the cluster has keys.</summary>
    public static string Url(ClusterFile cluster, ClusterCredentials? credentials, ClientRole role)
    {
        var page = cluster.Nodes[0].Uri.GetLeftPart(UriPartial.Authority) + "/";
        return credentials?.KeyFor(role) is { } key ? page + "#key=" + Uri.EscapeDataString(key) : page;
    }

    /// <summary>Nodes that were already running, started without the switch: their /api/demo does not exist.</summary>
    private static async Task<List<string>> NodesWithoutDemoAsync(CliContext ctx, string? key, CancellationToken token)
    {
        var cluster = ctx.Cluster;
        using var http = new HttpClient(TrustedCertificates.Handler(cluster.CaFilePath, TimeSpan.FromSeconds(1)))
        {
            Timeout = TimeSpan.FromSeconds(2),
        };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var missing = new List<string>();
        foreach (var node in cluster.Nodes)
        {
            using var response = await http.GetAsync(new Uri(node.Uri, "/api/demo"), token);
            if (response.StatusCode == HttpStatusCode.NotFound) missing.Add(node.Id);
        }
        return missing;
    }
}
