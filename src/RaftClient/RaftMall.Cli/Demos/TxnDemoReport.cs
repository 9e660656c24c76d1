using RaftMall.Client;
using RaftMall.Harness;
using Spectre.Console;

namespace RaftMall.Cli.Demos;

/// <summary>What `raftmall demo txn` found: every checkout's outcome in the cluster, at the points service and in stock.</summary>
public sealed record TxnDemoReport(
    TxnDemoReport.TimelineEntry[] Timeline, TxnDemoReport.CheckoutCheck[] Checkouts, TxnDemoReport.StockCheck[] Stock,
    string KilledLeader, string? FinishedBy, bool ReplicasIdentical)
{
    public sealed record TimelineEntry(double AtMs, string What);

    /// <param name="PointsEffects">tries/confirms/cancels/empty rollbacks applied by the points service for this gid.</param>
    public sealed record CheckoutCheck(string Gid, string Status, string? OrderStatus, PointsEffects PointsEffects, PointsAccount Points, bool Agree, string? Problem);

    public sealed record StockCheck(string Sku, long Available, long Locked, long Sold, long ExpectedSold, bool Agree);

    public bool Ok => Checkouts.All(c => c.Agree) && Stock.All(s => s.Agree) && ReplicasIdentical;

    public static async Task<TxnDemoReport> VerifyAsync(CliContext ctx, PointsParticipant points, IReadOnlyList<TxnDemo.Checkout> checkouts, string[] skus,
        long initialStock, long price, long richPoints, long poorPoints, TimelineEntry[] timeline, string killed, string? finishedBy, CancellationToken token)
    {
        var effects = await points.GetEffectsAsync(token);
        var checks = new List<CheckoutCheck>();
        foreach (var checkout in checkouts)
        {
            var txn = await ctx.Client.GetTransactionAsync(checkout.Gid, token: token);
            var orderId = txn.Branches.Single(b => b.BranchId == "order").OrderId;
            var order = orderId is { } id ? await ctx.Client.GetOrderAsync(id, token: token) : null;
            var applied = effects.GetValueOrDefault(checkout.Gid) ?? new PointsEffects(0, 0, 0, 0);
            var account = await points.GetAccountAsync(checkout.User, token);
            var initial = account.Available + account.Frozen + account.Spent;
            string? problem = txn.Status switch
            {
                "committed" when order?.Status != "paid" => $"order {order?.Status ?? "missing"}, expected paid",
                "committed" when applied != new PointsEffects(1, 1, 0, 0) => "points not tried and confirmed exactly once",
                "committed" when account.Spent != price || account.Frozen != 0 => "points not spent exactly once",
                "aborted" when order is not null && order.Status != "cancelled" => $"order {order.Status}, expected cancelled",
                "aborted" when applied is not ((1, 0, 1, 0) or (0, 0, 0, 1)) => "points not cancelled (or empty-rolled-back) exactly once",
                "aborted" when account.Spent != 0 || account.Frozen != 0 => "points spent or still frozen",
                "committed" or "aborted" => null,
                var other => $"not finished ({other})",
            };
            if (problem is null && initial != richPoints && initial != poorPoints) problem = $"points total {initial} changed";
            checks.Add(new CheckoutCheck(checkout.Gid, txn.Status, order?.Status, applied, account, problem is null, problem));
        }
        var committed = checks.Count(c => c.Status == "committed");
        var stock = new List<StockCheck>();
        foreach (var sku in skus)
        {
            var level = await ctx.Client.GetStockAsync(sku, token: token);
            stock.Add(new StockCheck(sku, level.Available, level.Locked, level.Sold, committed,
                level.Sold == committed && level.Locked == 0 && level.Total == initialStock));
        }
        return new TxnDemoReport(timeline, [.. checks], [.. stock], killed, finishedBy, await ReplicasConvergeAsync(ctx, token));
    }

    /// <summary>Waits (up to 30 s) until every node has applied the same index with the same state hash.</summary>
    private static async Task<bool> ReplicasConvergeAsync(CliContext ctx, CancellationToken token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var hashes = await Task.WhenAll(ctx.Cluster.Nodes.Select(n => ctx.Client.GetStateHashAsync(n.Uri, ReadConsistency.Local, token)));
                if (hashes.Select(h => (h.Hash, h.AppliedIndex)).Distinct().Count() == 1) return true;
            }
            catch (RaftMallException)
            {
                // the restarted node is not answering yet
            }
            await Task.Delay(200, token);
        }
        return false;
    }

    public void Render()
    {
        AnsiConsole.WriteLine();
        var table = new Table().Border(TableBorder.Rounded).AddColumns("checkout", "transaction", "order", "points effects (try/confirm/cancel/empty)", "points spent", "agree");
        foreach (var c in Checkouts)
        {
            var e = c.PointsEffects;
            table.AddRow(Markup.Escape(c.Gid), c.Status, c.OrderStatus ?? "-", $"{e.Tries}/{e.Confirms}/{e.Cancels}/{e.EmptyRollbacks}", c.Points.Spent.ToString(System.Globalization.CultureInfo.InvariantCulture),
                c.Agree ? "[green]yes[/]" : $"[red]no: {Markup.Escape(c.Problem ?? "")}[/]");
        }
        AnsiConsole.Write(table);
        var summary = new Table().Border(TableBorder.Rounded).AddColumns("", "").HideHeaders();
        summary.AddRow("killed leader", $"{KilledLeader} (after the decision, with the points confirm held)");
        summary.AddRow("phase 2 finished by", FinishedBy ?? "?");
        foreach (var s in Stock)
        {
            summary.AddRow($"stock {Markup.Escape(s.Sku)}", s.Agree
                ? $"[green]agrees[/] ({s.Sold} sold = committed checkouts, {s.Locked} locked, {s.Available} available)"
                : $"[red]off[/] ({s.Sold} sold, expected {s.ExpectedSold}; {s.Locked} locked)");
        }
        summary.AddRow("replicas", ReplicasIdentical ? "[green]identical state hashes[/]" : "[red]differ[/]");
        AnsiConsole.Write(summary);
        AnsiConsole.MarkupLine(Ok
            ? "[bold green]verdict: OK — orders, stock and points agree; every confirm and cancel applied exactly once[/]"
            : "[bold red]verdict: FAILED — see above[/]");
    }
}
