using System.CommandLine;
using System.Diagnostics;
using RaftMall.Harness;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall cluster add-node: starts a new node of the local cluster (one the cluster file does not list) through the
/// harness, waits until it answers, then adds it with the membership API. The API itself never starts processes.
/// </summary>
public static class AddNodeCommand
{
    public static Command Build(Option<bool> demo)
    {
        var id = new Argument<string>("node") { Description = "The new node's id, e.g. n4 (not one of the cluster file's)" };
        var address = new Option<string?>("--address") { Description = "Its address (default: the first node's scheme and host with a free port)" };
        var command = new Command("add-node", "Start a new node of the local cluster and add it as a member (it catches up first)") { id, address, demo };
        command.SetRun(async (ctx, token) =>
        {
            var nodeId = ctx.Parse.GetValue(id)!;
            if (ctx.Local.AllNodes().Any(n => n.Id == nodeId)) throw new CliException(ExitCodes.Usage, $"node '{nodeId}' exists already (in the cluster file or added before); use `member add` to add a running node again");
            if (nodeId.Length is 0 or > 32 || !nodeId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                throw new CliException(ExitCodes.Usage, $"'{nodeId}' is not a node id (letters, digits, - and _, at most 32)");
            }
            var uri = Address(ctx, ctx.Parse.GetValue(address));
            var local = new LocalCluster(ctx.Cluster) { Demo = ctx.Parse.GetValue(demo) };
            var pid = local.StartJoining(nodeId, uri);
            await ctx.WithProgressAsync($"starting {nodeId} at {uri.Authority}", () => WaitUntilItAnswersAsync(ctx, nodeId, uri, pid, token));
            var members = await ctx.WithProgressAsync($"adding {nodeId} (the leader catches it up first)", () => ctx.Client.AddMemberAsync(uri, token));
            ctx.Output(new AddedNode(nodeId, uri.GetLeftPart(UriPartial.Authority), pid, members), () =>
            {
                CliContext.Info($"added [bold]{Markup.Escape(nodeId)}[/] at {Markup.Escape(uri.GetLeftPart(UriPartial.Authority))} (pid {pid}; log {Markup.Escape(ctx.Local.LogPath(nodeId))})");
                MemberCommand.Render(members);
            });
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Uri Address(CliContext ctx, string? text)
    {
        if (text is not null)
        {
            return Uri.TryCreate(text, UriKind.Absolute, out var given) ? given : throw new CliException(ExitCodes.Usage, $"'{text}' is not an address such as http://127.0.0.1:7104");
        }
        var first = ctx.Cluster.Nodes[0].Uri;
        return new Uri($"{first.Scheme}://{first.Host}:{Processes.FreePorts(1)[0]}");
    }

    private static async Task<bool> WaitUntilItAnswersAsync(CliContext ctx, string nodeId, Uri uri, int pid, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (ctx.Local.RunningPid(nodeId) is null) ctx.Local.EnsureRunning([nodeId]); // throws with its log's last words
            if (await ClusterCommands.TryStatusAsync(ctx, uri, token) is { } status && status.ProcessId == pid) return true;
            await Task.Delay(100, token);
        }
        throw new CliException(ExitCodes.Unavailable, $"{nodeId} does not answer at {uri.Authority} within 30 s; see {ctx.Local.LogPath(nodeId)}");
    }
}
