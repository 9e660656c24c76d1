using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall stock|order|kv|events: the API from the command line.</summary>
public static class DataCommands
{
    private static readonly Option<string?> IdempotencyKey = new("--idempotency-key", "-k") { Description = "Idempotency-Key for this write (default: a fresh one)" };
    private static readonly System.Text.Json.JsonSerializerOptions EventJson = new(System.Text.Json.JsonSerializerDefaults.Web);
    private static readonly Option<bool> Local = new("--local") { Description = "Read the answering node's own state instead of a linearizable read" };

    public static Command Stock()
    {
        var stock = new Command("stock", "Set and read stock per sku");
        var sku = new Argument<string>("sku") { Description = "The sku, e.g. apple" };
        var available = new Argument<long>("available") { Description = "The new available count" };

        var set = new Command("set", "Set the available count of a sku (creating it)") { sku, available, IdempotencyKey };
        set.SetRun(async (ctx, token) =>
        {
            var level = await ctx.Client.SetStockAsync(ctx.Parse.GetValue(sku)!, ctx.Parse.GetValue(available), ctx.Parse.GetValue(IdempotencyKey), token);
            ctx.Output(level, () => RenderStock([level]));
            return ExitCodes.Ok;
        });
        var get = new Command("get", "Show one sku's stock") { sku, Local };
        get.SetRun(async (ctx, token) =>
        {
            var level = await ctx.Client.GetStockAsync(ctx.Parse.GetValue(sku)!, Consistency(ctx), token);
            ctx.Output(level, () => RenderStock([level]));
            return ExitCodes.Ok;
        });
        var list = new Command("list", "Show every sku's stock") { Local };
        list.SetRun(async (ctx, token) =>
        {
            var levels = await ctx.Client.ListStockAsync(Consistency(ctx), token: token);
            ctx.Output(levels, () => RenderStock(levels));
            return ExitCodes.Ok;
        });
        stock.Add(set);
        stock.Add(get);
        stock.Add(list);
        return stock;
    }

    public static Command Order()
    {
        var order = new Command("order", "Issue submit tokens, place, pay, cancel and list orders");
        var user = new Argument<string>("user") { Description = "The user id" };
        var id = new Argument<long>("id") { Description = "The order id" };
        var items = new Argument<string[]>("items") { Description = "Items as sku:quantity, e.g. apple:2 pear:1", Arity = ArgumentArity.OneOrMore };
        var tokenOption = new Option<string?>("--token", "-t") { Description = "The submit token from `order token` (protects against double submits)" };
        var ttl = new Option<int?>("--ttl") { Description = "Seconds until an unpaid order expires and releases its stock (default 900)" };

        var token = new Command("token", "Issue a submit token for a user") { user, IdempotencyKey };
        token.SetRun(async (ctx, ct) =>
        {
            var issued = await ctx.Client.IssueTokenAsync(ctx.Parse.GetValue(user)!, ctx.Parse.GetValue(IdempotencyKey), ct);
            ctx.Output(issued, () => CliContext.Info($"token [bold]{issued.Token}[/] for {Markup.Escape(issued.UserId)}, valid until {issued.ExpiresAt:u}"));
            return ExitCodes.Ok;
        });
        var place = new Command("place", "Place an order: locks stock for every item or none") { user, items, tokenOption, ttl, IdempotencyKey };
        place.SetRun(async (ctx, ct) =>
        {
            var lines = ctx.Parse.GetValue(items)!.Select(ParseItem).ToArray();
            var placed = await ctx.Client.PlaceOrderAsync(ctx.Parse.GetValue(user)!, lines, ctx.Parse.GetValue(tokenOption), ctx.Parse.GetValue(ttl), ctx.Parse.GetValue(IdempotencyKey), ct);
            ctx.Output(placed, () => RenderOrders([placed]));
            return ExitCodes.Ok;
        });
        var pay = new Command("pay", "Pay a pending order (locked stock becomes sold)") { id, IdempotencyKey };
        pay.SetRun(async (ctx, ct) =>
        {
            var paid = await ctx.Client.PayOrderAsync(ctx.Parse.GetValue(id), ctx.Parse.GetValue(IdempotencyKey), ct);
            ctx.Output(paid, () => RenderOrders([paid]));
            return ExitCodes.Ok;
        });
        var cancel = new Command("cancel", "Cancel a pending order (locked stock becomes available)") { id, IdempotencyKey };
        cancel.SetRun(async (ctx, ct) =>
        {
            var cancelled = await ctx.Client.CancelOrderAsync(ctx.Parse.GetValue(id), ctx.Parse.GetValue(IdempotencyKey), ct);
            ctx.Output(cancelled, () => RenderOrders([cancelled]));
            return ExitCodes.Ok;
        });
        var get = new Command("get", "Show one order") { id, Local };
        get.SetRun(async (ctx, ct) =>
        {
            var found = await ctx.Client.GetOrderAsync(ctx.Parse.GetValue(id), Consistency(ctx), token: ct);
            ctx.Output(found, () => RenderOrders([found]));
            return ExitCodes.Ok;
        });
        var userFilter = new Option<string?>("--user", "-u") { Description = "Only this user's orders" };
        var statusFilter = new Option<string?>("--status", "-s") { Description = "Only orders in this status" };
        statusFilter.AcceptOnlyFromAmong("pending", "paid", "cancelled", "expired");
        var after = new Option<long>("--after") { Description = "Start after this order id (for paging)" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many orders (1..1000)", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List orders by id") { userFilter, statusFilter, after, limit, Local };
        list.SetRun(async (ctx, ct) =>
        {
            var page = await ctx.Client.ListOrdersAsync(ctx.Parse.GetValue(userFilter), ctx.Parse.GetValue(statusFilter), ctx.Parse.GetValue(after),
                ctx.Parse.GetValue(limit), Consistency(ctx), token: ct);
            ctx.Output(page, () =>
            {
                RenderOrders(page.Orders);
                if (page.NextAfter is { } next) CliContext.Info($"[grey]more: --after {next}[/]");
            });
            return ExitCodes.Ok;
        });
        foreach (var c in new[] { token, place, pay, cancel, get, list }) order.Add(c);
        return order;
    }

    public static Command Kv()
    {
        var kv = new Command("kv", "Put, get and delete keys (with compare-and-set on revision)");
        var key = new Argument<string>("key") { Description = "The key" };
        var value = new Argument<string>("value") { Description = "The value" };
        var ifRevision = new Option<long?>("--if-revision") { Description = "Only if the key is at this revision (0: only if it does not exist)" };
        var put = new Command("put", "Put a value") { key, value, ifRevision, IdempotencyKey };
        put.SetRun(async (ctx, ct) =>
        {
            var entry = await ctx.Client.PutAsync(ctx.Parse.GetValue(key)!, ctx.Parse.GetValue(value)!, ctx.Parse.GetValue(ifRevision), ctx.Parse.GetValue(IdempotencyKey), ct);
            ctx.Output(entry, () => CliContext.Info($"{Markup.Escape(entry.Key)} = {Markup.Escape(entry.Value)} [grey](revision {entry.Revision})[/]"));
            return ExitCodes.Ok;
        });
        var get = new Command("get", "Get a value") { key, Local };
        get.SetRun(async (ctx, ct) =>
        {
            var entry = await ctx.Client.GetAsync(ctx.Parse.GetValue(key)!, Consistency(ctx), token: ct);
            ctx.Output(entry, () => CliContext.Info($"{Markup.Escape(entry.Key)} = {Markup.Escape(entry.Value)} [grey](revision {entry.Revision})[/]"));
            return ExitCodes.Ok;
        });
        var del = new Command("del", "Delete a key") { key, ifRevision, IdempotencyKey };
        del.SetRun(async (ctx, ct) =>
        {
            await ctx.Client.DeleteAsync(ctx.Parse.GetValue(key)!, ctx.Parse.GetValue(ifRevision), ctx.Parse.GetValue(IdempotencyKey), ct);
            ctx.Output(new { deleted = ctx.Parse.GetValue(key) }, () => CliContext.Info($"deleted {Markup.Escape(ctx.Parse.GetValue(key)!)}"));
            return ExitCodes.Ok;
        });
        kv.Add(put);
        kv.Add(get);
        kv.Add(del);
        return kv;
    }

    public static Command Events()
    {
        var events = new Command("events", "Read the replicated outbox of domain events");
        var after = new Option<long>("--after") { Description = "Start after this sequence number" };
        var follow = new Option<bool>("--no-follow") { Description = "Print what is there and stop instead of following" };
        var tail = new Command("tail", "Print events and follow new ones as they commit (Ctrl+C to stop)") { after, follow };
        tail.SetRun(async (ctx, ct) =>
        {
            var position = ctx.Parse.GetValue(after);
            var once = ctx.Parse.GetValue(follow);
            while (!ct.IsCancellationRequested)
            {
                var page = await ctx.Client.ReadEventsAsync(position, 500, once ? 0 : 10, ct);
                foreach (var e in page.Events)
                {
                    if (ctx.Json) Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(e, EventJson));
                    else CliContext.Info($"[grey]{e.Sequence,6} {e.At:HH:mm:ss.fff}[/] [bold]{e.Type}[/] {Markup.Escape(Describe(e))}");
                    position = e.Sequence;
                }
                if (once && page.Events.Length == 0) break;
            }
            return ExitCodes.Ok;
        });
        events.Add(tail);
        return events;
    }

    private static string Describe(MallEvent e)
    {
        var parts = new List<string>();
        if (e.OrderId is { } id) parts.Add($"order {id}");
        if (e.Subject is { } subject) parts.Add(subject);
        if (e.Sku is { } sku) parts.Add($"{sku} x{e.Quantity}");
        if (e.Detail is { } detail) parts.Add(detail);
        return string.Join(" ", parts);
    }

    private static ReadConsistency Consistency(CliContext ctx) => ctx.Parse.GetValue(Local) ? ReadConsistency.Local : ReadConsistency.Linearizable;

    private static OrderLine ParseItem(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || parts[0].Length == 0 || !int.TryParse(parts[1], out var quantity) || quantity <= 0)
        {
            throw new CliException(ExitCodes.Usage, $"item '{text}' is not sku:quantity with a positive quantity (e.g. apple:2)");
        }
        return new OrderLine(parts[0], quantity);
    }

    private static void RenderStock(IEnumerable<StockLevel> levels)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("sku", "available", "locked", "sold", "total");
        foreach (var s in levels) table.AddRow(Markup.Escape(s.Sku), s.Available.ToString(), s.Locked.ToString(), s.Sold.ToString(), s.Total.ToString());
        AnsiConsole.Write(table);
    }

    private static void RenderOrders(IEnumerable<Order> orders)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("order", "user", "status", "items", "created", "expires");
        foreach (var o in orders)
        {
            table.AddRow(o.OrderId.ToString(), Markup.Escape(o.UserId), o.Status, Markup.Escape(string.Join(", ", o.Items.Select(i => $"{i.Sku}:{i.Quantity}"))),
                o.CreatedAt.ToString("u"), o.ExpiresAt.ToString("u"));
        }
        AnsiConsole.Write(table);
    }
}
