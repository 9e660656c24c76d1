using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>What the data commands (stock, order, kv, events) share: options, parsing and tables.</summary>
internal static class DataOptions
{
    public static readonly Option<string?> IdempotencyKey = new("--idempotency-key", "-k") { Description = "Idempotency-Key for this write (default: a fresh one)" };
    public static readonly Option<bool> Local = new("--local") { Description = "Read the answering node's own state instead of a linearizable read" };

    public static string Describe(MallEvent e)
    {
        var parts = new List<string>();
        if (e.OrderId is { } id) parts.Add($"order {id}");
        if (e.Subject is { } subject) parts.Add(subject);
        if (e.Sku is { } sku) parts.Add($"{sku} x{e.Quantity}");
        if (e.Detail is { } detail) parts.Add(detail);
        if (e.Topic is { } topic) parts.Add(e.Key is { } key ? $"{topic} [{key}]" : topic);
        if (e.Payload is { } payload) parts.Add(payload.GetRawText());
        return string.Join(" ", parts);
    }

    public static ReadConsistency Consistency(CliContext ctx) => ctx.Parse.GetValue(Local) ? ReadConsistency.Local : ReadConsistency.Linearizable;

    public static OrderLine ParseItem(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || parts[0].Length == 0 || !int.TryParse(parts[1], out var quantity) || quantity <= 0)
        {
            throw new CliException(ExitCodes.Usage, $"item '{text}' is not sku:quantity with a positive quantity (e.g. apple:2)");
        }
        return new OrderLine(parts[0], quantity);
    }

    public static void RenderStock(IEnumerable<StockLevel> levels)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("sku", "available", "locked", "sold", "total");
        foreach (var s in levels) table.AddRow(Markup.Escape(s.Sku), s.Available.ToString(), s.Locked.ToString(), s.Sold.ToString(), s.Total.ToString());
        AnsiConsole.Write(table);
    }

    public static void RenderOrders(IEnumerable<Order> orders)
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
