using System.CommandLine;
using System.Diagnostics;
using RaftMall.Cli.Commands;
using RaftMall.Client;
using RaftMall.Harness;
using Spectre.Console;

namespace RaftMall.Cli.Demos;

/// <summary>
/// raftmall demo txn: checkout transactions spanning an order and a stock lock (built into RaftMall) and loyalty points
/// (the sample participant, a separate process); the leader is killed with kill -9 after a decision and before phase 2
/// completes; the new leader finishes phase 2; then points, stock and orders must agree.
/// </summary>
public sealed class TxnDemo(CliContext ctx, int checkouts)
{
    public const int PricePoints = 100;
    private const int InitialStock = 1_000;
    private const long RichPoints = 10_000;
    private const long PoorPoints = 50; // less than one checkout: its points try is refused, so the checkout aborts

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<TxnDemoReport.TimelineEntry> _timeline = [];

    public static Command Build()
    {
        var checkouts = new Option<int>("--checkouts") { Description = "Checkouts before the failover (every fourth by a user without enough points: aborts)", DefaultValueFactory = _ => 8 };
        var command = new Command("txn", "Checkout transactions over orders, stock and a loyalty-points service; kill -9 the leader between the decision and phase 2; check that all three agree")
        {
            checkouts,
        };
        command.SetRun(async (ctx, token) =>
        {
            var report = await new TxnDemo(ctx, Math.Clamp(ctx.Parse.GetValue(checkouts), 1, 200)).RunAsync(token);
            ctx.Output(report, report.Render);
            return report.Ok ? ExitCodes.Ok : ExitCodes.VerdictFailed;
        });
        return command;
    }

    public async Task<TxnDemoReport> RunAsync(CancellationToken token)
    {
        var startedCluster = await FailoverDemo.EnsureClusterAsync(ctx, token);
        var run = DateTime.UtcNow.ToString("HHmmss", System.Globalization.CultureInfo.InvariantCulture) + Random.Shared.Next(100, 999);
        var pointsDirectory = Path.Combine(Path.GetDirectoryName(ctx.Cluster.NodeDataDirectory("x"))!, $"points-demo-{run}");
        string? killed = null;
        var cleanPoints = false;
        await using var points = await PointsParticipant.StartAsync(Programs.PointsDll(), "points", pointsDirectory, token);
        try
        {
            Note($"loyalty points service at {points.Url} (journal in {pointsDirectory})");
            var skus = new[] { $"book-{run}", $"tote-{run}" };
            foreach (var sku in skus) await ctx.Client.SetStockAsync(sku, InitialStock, token: token);
            var checkoutsRun = new List<Checkout>();
            for (var i = 0; i < checkouts; i++)
            {
                var user = $"shopper-{run}-{i}";
                await points.SetAccountAsync(user, i % 4 == 3 ? PoorPoints : RichPoints, token);
                checkoutsRun.Add(new Checkout($"checkout-{run}-{i}", user));
            }
            var done = await Task.WhenAll(checkoutsRun.Select(c => ctx.Client.BeginTransactionAsync(Request(c, skus, points), TransactionWait.Finished, token: token)));
            Note($"{checkouts} checkouts: {done.Count(t => t.Status == "committed")} committed, {done.Count(t => t.Status == "aborted")} aborted (not enough points)");

            // The failover: hold the points confirm, so the decision is in the log but phase 2 is not complete.
            var victim = new Checkout($"checkout-{run}-failover", $"shopper-{run}-failover");
            await points.SetAccountAsync(victim.User, RichPoints, token);
            checkoutsRun.Add(victim);
            await points.AddRuleAsync("confirm", "hold", branch: "points", gid: victim.Gid, token: token);
            var decided = await ctx.Client.BeginTransactionAsync(Request(victim, skus, points), TransactionWait.Decided, token: token);
            Note($"{victim.Gid}: decided {decided.Decision} ({decided.Status}); the points confirm is held at the participant");
            if (!await points.WaitHeldAsync(1, TimeSpan.FromSeconds(10), token)) throw new CliException(ExitCodes.VerdictFailed, "the points confirm never arrived");
            var before = await ctx.Client.GetTransactionAsync(victim.Gid, token: token);
            Note($"{victim.Gid} per the API: {before.Status}, branches {Describe(before)}");
            var leader = await LeaderAsync(token) ?? throw new CliException(ExitCodes.Unavailable, "no leader to kill");
            ctx.Local.Kill(leader.NodeId);
            killed = leader.NodeId;
            Note($"kill -9 of leader {leader.NodeId} (term {leader.Term}) before phase 2 completed");
            await points.ReleaseAsync(token); // the held call from the dead leader proceeds; the new leader sends its own confirm
            var after = await WaitFinishedAsync(victim.Gid, token);
            var newLeader = await LeaderAsync(token);
            Note($"{victim.Gid}: {after.Status} — phase 2 finished by {newLeader?.NodeId ?? "?"} (term {newLeader?.Term}), branches {Describe(after)}");
            ctx.Local.Start(leader.NodeId);
            Note($"restarted {leader.NodeId}");
            killed = null;

            var report = await TxnDemoReport.VerifyAsync(ctx, points, checkoutsRun, skus, InitialStock, PricePoints, RichPoints, PoorPoints, [.. _timeline], leader.NodeId, newLeader?.NodeId, token);
            if (report.Ok) cleanPoints = true; // a failed run keeps the points journal for a look
            return report;
        }
        finally
        {
            if (killed is not null) ctx.Local.Start(killed); // leave the cluster as it was found
            if (cleanPoints)
            {
                await points.DisposeAsync();
                Directory.Delete(pointsDirectory, recursive: true);
            }
            if (startedCluster)
            {
                foreach (var node in ctx.Cluster.Nodes) ctx.Local.Stop(node.Id, TimeSpan.FromSeconds(5));
                Note("stopped the cluster this demo started");
            }
        }
    }

    /// <summary>One checkout: an order (built-in) and a gift tote stock lock (built-in) and the points (the sample participant).</summary>
    public sealed record Checkout(string Gid, string User);

    private static TransactionRequest Request(Checkout checkout, string[] skus, PointsParticipant points) => new("tcc",
    [
        TransactionBranchRequest.Order("order", checkout.User, new OrderLine(skus[0], 1)),
        TransactionBranchRequest.Stock("gift", skus[1], 1),
        TransactionBranchRequest.Tcc("points", points.TryUrl, points.ConfirmUrl, points.CancelUrl, new PointsPayload(checkout.User, PricePoints).ToJson()),
    ], checkout.Gid, 20_000);

    private async Task<GlobalTransaction> WaitFinishedAsync(string gid, CancellationToken token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var txn = await ctx.Client.GetTransactionAsync(gid, token: token);
            if (txn.IsFinished) return txn;
            if (DateTime.UtcNow > deadline) throw new CliException(ExitCodes.VerdictFailed, $"{gid} did not finish within 60 s: {txn.Status}, {Describe(txn)}");
            await Task.Delay(50, token);
        }
    }

    private async Task<ClusterStatus?> LeaderAsync(CancellationToken token)
    {
        for (var i = 0; i < 100; i++)
        {
            var statuses = await Task.WhenAll(ctx.Cluster.Nodes.Select(n => ClusterCommands.TryStatusAsync(ctx, n.Uri, token)));
            if (statuses.FirstOrDefault(s => s?.Role == "leader") is { } leader) return leader;
            await Task.Delay(50, token);
        }
        return null;
    }

    private static string Describe(GlobalTransaction txn) => string.Join(", ", txn.Branches.Select(b => $"{b.BranchId} {b.State}"));

    private void Note(string what)
    {
        _timeline.Add(new TxnDemoReport.TimelineEntry(_clock.Elapsed.TotalMilliseconds, what));
        if (!ctx.Json) CliContext.Info($"[grey]{_clock.Elapsed.TotalSeconds,7:F3} s[/] {Markup.Escape(what)}");
    }
}
