using System.Collections.Concurrent;
using System.Diagnostics;
using RaftMall.Cli.Commands;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Demos;

/// <summary>The failover demo: load, kill -9 of the leader, restart, convergence, verdict.</summary>
public sealed class FailoverDemo(CliContext ctx, FailoverDemo.Settings settings)
{
    public sealed record Settings(int Clients, TimeSpan Duration, TimeSpan KillAfter, TimeSpan RestartAfter);

    public sealed record TimelineEntry(double AtMs, string What);

    public sealed record SkuCheck(string Sku, long Initial, long Available, long Locked, long Sold, bool Conserved);

    private const int SkuCount = 4;
    private const long InitialStock = 1_000_000;

    private readonly Stopwatch _clock = new();
    private readonly ConcurrentQueue<TimelineEntry> _timeline = new();
    private readonly ConcurrentBag<double> _ackTimesMs = [];
    private readonly ConcurrentDictionary<long, (OrderLine[] Items, string Expected)> _acked = new();
    private int _failedWrites;

    public async Task<Report> RunAsync(CancellationToken token)
    {
        await EnsureClusterAsync(ctx, token);
        var run = DateTime.UtcNow.ToString("HHmmss", System.Globalization.CultureInfo.InvariantCulture) + Random.Shared.Next(100, 999);
        var skus = Enumerable.Range(1, SkuCount).Select(i => $"demo-{run}-{i}").ToArray();
        foreach (var sku in skus) await ctx.Client.SetStockAsync(sku, InitialStock, token: token);

        _clock.Start();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var monitor = MonitorLeaderAsync(stop.Token);
        var workers = Enumerable.Range(0, settings.Clients).Select(i => WorkAsync($"shopper-{run}-{i}", skus, stop.Token)).ToArray();
        var chaos = ChaosAsync(stop.Token);
        await ShowProgressAsync(stop.Token);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await chaos;
        await monitor;

        Note("load stopped; waiting for every node to converge");
        var converged = await WaitForConvergenceAsync(token);
        return await VerifyAsync(skus, converged, token);
    }

    /// <summary>Starts the nodes of the cluster file that do not answer and waits for a leader; true when no node answered before.</summary>
    internal static async Task<bool> EnsureClusterAsync(CliContext ctx, CancellationToken token)
    {
        var statuses = await ClusterCommands.CollectAsync(ctx, token);
        var answering = statuses.Count(s => s.Status is not null);
        if (answering < ctx.Cluster.Nodes.Count)
        {
            if (!ctx.Json) CliContext.Info($"starting the cluster of [bold]{Markup.Escape(ctx.Cluster.SourcePath)}[/] ...");
            foreach (var node in ctx.Cluster.Nodes) ctx.Local.Start(node.Id);
            await ClusterCommands.EnsureOwnNodesAnswerAsync(ctx, token);
        }
        var ready = await ClusterCommands.WaitForLeaderAsync(ctx, TimeSpan.FromSeconds(60), token);
        while (ready.Any(s => s.Status is null))
        {
            await Task.Delay(200, token);
            ready = await ClusterCommands.WaitForLeaderAsync(ctx, TimeSpan.FromSeconds(60), token);
        }
        return answering == 0;
    }

    private async Task WorkAsync(string user, string[] skus, CancellationToken stop)
    {
        var random = new Random(user.GetHashCode(StringComparison.Ordinal));
        var placed = 0;
        while (!stop.IsCancellationRequested && _clock.Elapsed < settings.Duration)
        {
            try
            {
                var lines = skus.OrderBy(_ => random.Next()).Take(random.Next(1, 3)).Select(s => new OrderLine(s, random.Next(1, 4))).ToArray();
                var order = await ctx.Client.PlaceOrderAsync(user, lines, token: CancellationToken.None);
                Acked(order.OrderId, lines, "pending");
                placed++;
                if (placed % 3 == 0)
                {
                    await ctx.Client.PayOrderAsync(order.OrderId, token: CancellationToken.None);
                    Acked(order.OrderId, lines, "paid");
                }
                else if (placed % 5 == 0)
                {
                    await ctx.Client.CancelOrderAsync(order.OrderId, token: CancellationToken.None);
                    Acked(order.OrderId, lines, "cancelled");
                }
            }
            catch (RaftMallException)
            {
                Interlocked.Increment(ref _failedWrites); // retry budget exhausted: outcome unknown, not counted as acknowledged
            }
        }
    }

    private void Acked(long orderId, OrderLine[] items, string expected)
    {
        _acked[orderId] = (items, expected);
        _ackTimesMs.Add(_clock.Elapsed.TotalMilliseconds);
    }

    private async Task ChaosAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(settings.KillAfter, stop);
            var leader = await CurrentLeaderAsync(stop) ?? throw new CliException(ExitCodes.Unavailable, "no leader to kill");
            ctx.Local.Kill(leader.NodeId);
            _killedAtMs = _clock.Elapsed.TotalMilliseconds;
            _killed = leader.NodeId;
            Note($"kill -9 of leader {leader.NodeId} (term {leader.Term})");
            await Task.Delay(settings.RestartAfter, stop);
            ctx.Local.Start(leader.NodeId);
            Note($"restarted {leader.NodeId}");
        }
        catch (OperationCanceledException)
        {
            // the load ended first
        }
    }

    private double? _killedAtMs;
    private string? _killed;

    private async Task MonitorLeaderAsync(CancellationToken stop)
    {
        string? lastLeader = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var leader = await CurrentLeaderAsync(stop);
                if (leader is not null && leader.NodeId != lastLeader)
                {
                    Note(lastLeader is null ? $"leader is {leader.NodeId} (term {leader.Term})" : $"{leader.NodeId} elected leader (term {leader.Term})");
                    lastLeader = leader.NodeId;
                }
                await Task.Delay(20, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the load ended
        }
    }

    private Task<ClusterStatus?> CurrentLeaderAsync(CancellationToken token) => CurrentLeaderAsync(ctx, token);

    /// <summary>The node of the cluster file that says it is leader now; null during an election.</summary>
    internal static async Task<ClusterStatus?> CurrentLeaderAsync(CliContext ctx, CancellationToken token)
    {
        var tasks = ctx.Cluster.Nodes.Select(n => ClusterCommands.TryStatusAsync(ctx, n.Uri, token));
        var statuses = await Task.WhenAll(tasks);
        return statuses.FirstOrDefault(s => s?.Role == "leader");
    }

    private async Task ShowProgressAsync(CancellationToken stop)
    {
        if (ctx.Json || Console.IsOutputRedirected)
        {
            while (_clock.Elapsed < settings.Duration && !stop.IsCancellationRequested) await Task.Delay(100, stop);
            return;
        }
        await AnsiConsole.Status().StartAsync("placing orders", async status =>
        {
            var lastCount = 0;
            var lastTime = 0.0;
            while (_clock.Elapsed < settings.Duration && !stop.IsCancellationRequested)
            {
                await Task.Delay(250, stop);
                var count = _ackTimesMs.Count;
                var now = _clock.Elapsed.TotalMilliseconds;
                var rate = (count - lastCount) / Math.Max(0.001, (now - lastTime) / 1000);
                (lastCount, lastTime) = (count, now);
                status.Status($"{now / 1000:F1} s: {_acked.Count} orders acknowledged, {rate:F0} writes/s");
            }
        });
    }

    private void Note(string what)
    {
        _timeline.Enqueue(new TimelineEntry(_clock.Elapsed.TotalMilliseconds, what));
        if (!ctx.Json) CliContext.Info($"[grey]{_clock.Elapsed.TotalSeconds,7:F3} s[/] {Markup.Escape(what)}");
    }

    private async Task<Dictionary<string, ClusterStatus>> WaitForConvergenceAsync(CancellationToken token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var statuses = (await ClusterCommands.CollectAsync(ctx, token)).Where(s => s.Status is not null).ToDictionary(s => s.NodeId, s => s.Status!);
            var leader = statuses.Values.FirstOrDefault(s => s.Role == "leader");
            if (leader is not null && statuses.Count == ctx.Cluster.Nodes.Count && statuses.Values.All(s => s.AppliedIndex >= leader.CommitIndex && s.LeaderId == leader.NodeId))
            {
                return statuses;
            }
            if (DateTime.UtcNow > deadline) throw new CliException(ExitCodes.VerdictFailed, "the cluster did not converge within 60 s after the load");
            await Task.Delay(200, token);
        }
    }

    private async Task<Report> VerifyAsync(string[] skus, Dictionary<string, ClusterStatus> nodes, CancellationToken token)
    {
        var missing = new Dictionary<string, int>();
        var wrongStatus = new Dictionary<string, int>();
        var skuChecks = new List<SkuCheck>();
        var hashes = new Dictionary<string, string>();
        foreach (var node in ctx.Cluster.Nodes)
        {
            // Linearizable reads through each node: it must answer with everything acknowledged.
            var orders = new Dictionary<long, Order>();
            await foreach (var order in ctx.Client.AllOrdersAsync(ReadConsistency.Linearizable, node.Uri, token)) orders[order.OrderId] = order;
            missing[node.Id] = _acked.Keys.Count(id => !orders.ContainsKey(id));
            wrongStatus[node.Id] = _acked.Count(a => orders.TryGetValue(a.Key, out var o) && o.Status != a.Value.Expected && !(a.Value.Expected == "pending" && o.Status == "expired"));
            var stock = await ctx.Client.ListStockAsync(ReadConsistency.Linearizable, node.Uri, token);
            foreach (var sku in skus)
            {
                var level = stock.Single(s => s.Sku == sku);
                var lockedByOrders = orders.Values.Where(o => o.Status == "pending").SelectMany(o => o.Items).Where(i => i.Sku == sku).Sum(i => (long)i.Quantity);
                var soldByOrders = orders.Values.Where(o => o.Status == "paid").SelectMany(o => o.Items).Where(i => i.Sku == sku).Sum(i => (long)i.Quantity);
                var conserved = level.Total == InitialStock && level.Locked == lockedByOrders && level.Sold == soldByOrders && level.Available >= 0;
                if (node == ctx.Cluster.Nodes[0] || !conserved) skuChecks.Add(new SkuCheck(sku, InitialStock, level.Available, level.Locked, level.Sold, conserved));
            }
            hashes[node.Id] = (await ctx.Client.GetStateHashAsync(node.Uri, ReadConsistency.Local, token)).Hash;
        }

        var acks = _ackTimesMs.Order().ToArray();
        double? firstAfterKill = _killedAtMs is { } k ? acks.FirstOrDefault(t => t > k) - k : null;
        var maxGap = acks.Zip(acks.Skip(1), (a, b) => b - a).DefaultIfEmpty(0).Max();
        return new Report(
            [.. _timeline.OrderBy(t => t.AtMs)], _acked.Count, _acked.Count(a => a.Value.Expected == "paid"), _acked.Count(a => a.Value.Expected == "cancelled"),
            _failedWrites, _killed, firstAfterKill, maxGap, missing, wrongStatus, skuChecks, hashes.Values.Distinct().Count() == 1);
    }

    public sealed record Report(
        TimelineEntry[] Timeline, int OrdersAcknowledged, int PaymentsAcknowledged, int CancellationsAcknowledged, int WritesGivenUp,
        string? KilledLeader, double? MsFromKillToFirstAcknowledgedWrite, double LongestMsWithoutAcknowledgedWrite,
        Dictionary<string, int> MissingOrdersByNode, Dictionary<string, int> WrongStatusByNode, List<SkuCheck> Stock, bool ReplicasIdentical)
    {
        public bool Ok => MissingOrdersByNode.Values.All(v => v == 0) && WrongStatusByNode.Values.All(v => v == 0) && Stock.All(s => s.Conserved) && ReplicasIdentical;

        public void Render()
        {
            AnsiConsole.WriteLine();
            var summary = new Table().Border(TableBorder.Rounded).AddColumns("", "").HideHeaders();
            summary.AddRow("orders acknowledged", $"{OrdersAcknowledged} ({PaymentsAcknowledged} paid, {CancellationsAcknowledged} cancelled)");
            summary.AddRow("killed leader", KilledLeader ?? "-");
            summary.AddRow("kill -9 → first acknowledged write", MsFromKillToFirstAcknowledgedWrite is { } ms ? $"{ms:F0} ms" : "-");
            summary.AddRow("longest time without an acknowledged write", $"{LongestMsWithoutAcknowledgedWrite:F0} ms");
            summary.AddRow("writes given up (outcome unknown)", WritesGivenUp.ToString());
            foreach (var (node, count) in MissingOrdersByNode)
            {
                summary.AddRow($"acknowledged orders on {node}", count == 0 ? $"[green]all {OrdersAcknowledged}[/]" : $"[red]{count} missing[/]");
            }
            foreach (var s in Stock) summary.AddRow($"stock {s.Sku}", s.Conserved ? $"[green]conserved[/] ({s.Available} + {s.Locked} + {s.Sold} = {s.Initial})" : $"[red]off[/] ({s.Available} + {s.Locked} + {s.Sold} ≠ {s.Initial})");
            summary.AddRow("replicas", ReplicasIdentical ? "[green]identical state hashes[/]" : "[red]differ[/]");
            AnsiConsole.Write(summary);
            AnsiConsole.MarkupLine(Ok ? "[bold green]verdict: OK — nothing acknowledged was lost[/]" : "[bold red]verdict: FAILED — see above[/]");
        }
    }
}
