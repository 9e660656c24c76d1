using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall order: submit tokens, place, pay, cancel, list.</summary>
public static class OrderCommand
{
    public static Command Build()
    {
        var order = new Command("order", "Issue submit tokens, place, pay, cancel and list orders");
        var user = new Argument<string>("user") { Description = "The user id" };
        var id = new Argument<long>("id") { Description = "The order id" };
        var items = new Argument<string[]>("items") { Description = "Items as sku:quantity, e.g. apple:2 pear:1", Arity = ArgumentArity.OneOrMore };
        var tokenOption = new Option<string?>("--token", "-t") { Description = "The submit token from `order token` (protects against double submits)" };
        var ttl = new Option<int?>("--ttl") { Description = "Seconds until an unpaid order expires and releases its stock (default 900)" };

        var token = new Command("token", "Issue a submit token for a user") { user, DataOptions.IdempotencyKey };
        token.SetRun(async (ctx, ct) =>
        {
            var issued = await ctx.Client.IssueTokenAsync(ctx.Parse.GetValue(user)!, ctx.Parse.GetValue(DataOptions.IdempotencyKey), ct);
            ctx.Output(issued, () => CliContext.Info($"token [bold]{issued.Token}[/] for {Markup.Escape(issued.UserId)}, valid until {issued.ExpiresAt:u}"));
            return ExitCodes.Ok;
        });
        var place = new Command("place", "Place an order: locks stock for every item or none") { user, items, tokenOption, ttl, DataOptions.IdempotencyKey };
        place.SetRun(async (ctx, ct) =>
        {
            var lines = ctx.Parse.GetValue(items)!.Select(DataOptions.ParseItem).ToArray();
            var placed = await ctx.Client.PlaceOrderAsync(ctx.Parse.GetValue(user)!, lines, ctx.Parse.GetValue(tokenOption), ctx.Parse.GetValue(ttl), ctx.Parse.GetValue(DataOptions.IdempotencyKey), ct);
            ctx.Output(placed, () => DataOptions.RenderOrders([placed]));
            return ExitCodes.Ok;
        });
        var pay = new Command("pay", "Pay a pending order (locked stock becomes sold)") { id, DataOptions.IdempotencyKey };
        pay.SetRun(async (ctx, ct) =>
        {
            var paid = await ctx.Client.PayOrderAsync(ctx.Parse.GetValue(id), ctx.Parse.GetValue(DataOptions.IdempotencyKey), ct);
            ctx.Output(paid, () => DataOptions.RenderOrders([paid]));
            return ExitCodes.Ok;
        });
        var cancel = new Command("cancel", "Cancel a pending order (locked stock becomes available)") { id, DataOptions.IdempotencyKey };
        cancel.SetRun(async (ctx, ct) =>
        {
            var cancelled = await ctx.Client.CancelOrderAsync(ctx.Parse.GetValue(id), ctx.Parse.GetValue(DataOptions.IdempotencyKey), ct);
            ctx.Output(cancelled, () => DataOptions.RenderOrders([cancelled]));
            return ExitCodes.Ok;
        });
        var get = new Command("get", "Show one order") { id, DataOptions.Local };
        get.SetRun(async (ctx, ct) =>
        {
            var found = await ctx.Client.GetOrderAsync(ctx.Parse.GetValue(id), DataOptions.Consistency(ctx), token: ct);
            ctx.Output(found, () => DataOptions.RenderOrders([found]));
            return ExitCodes.Ok;
        });
        var userFilter = new Option<string?>("--user", "-u") { Description = "Only this user's orders" };
        var statusFilter = new Option<string?>("--status", "-s") { Description = "Only orders in this status" };
        statusFilter.AcceptOnlyFromAmong("pending", "paid", "cancelled", "expired");
        var after = new Option<long>("--after") { Description = "Start after this order id (for paging)" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many orders (1..1000)", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List orders by id") { userFilter, statusFilter, after, limit, DataOptions.Local };
        list.SetRun(async (ctx, ct) =>
        {
            var page = await ctx.Client.ListOrdersAsync(ctx.Parse.GetValue(userFilter), ctx.Parse.GetValue(statusFilter), ctx.Parse.GetValue(after),
                ctx.Parse.GetValue(limit), DataOptions.Consistency(ctx), token: ct);
            ctx.Output(page, () =>
            {
                DataOptions.RenderOrders(page.Orders);
                if (page.NextAfter is { } next) CliContext.Info($"[grey]more: --after {next}[/]");
            });
            return ExitCodes.Ok;
        });
        foreach (var c in new[] { token, place, pay, cancel, get, list }) order.Add(c);
        return order;
    }
}
