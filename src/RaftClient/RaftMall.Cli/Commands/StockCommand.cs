using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall stock: set and read stock per sku.</summary>
public static class StockCommand
{
    public static Command Build()
    {
        var stock = new Command("stock", "Set and read stock per sku");
        var sku = new Argument<string>("sku") { Description = "The sku, e.g. apple" };
        var available = new Argument<long>("available") { Description = "The new available count" };

        var set = new Command("set", "Set the available count of a sku (creating it)") { sku, available, DataOptions.IdempotencyKey };
        set.SetRun(async (ctx, token) =>
        {
            var level = await ctx.Client.SetStockAsync(ctx.Parse.GetValue(sku)!, ctx.Parse.GetValue(available), ctx.Parse.GetValue(DataOptions.IdempotencyKey), token);
            ctx.Output(level, () => DataOptions.RenderStock([level]));
            return ExitCodes.Ok;
        });
        var get = new Command("get", "Show one sku's stock") { sku, DataOptions.Local };
        get.SetRun(async (ctx, token) =>
        {
            var level = await ctx.Client.GetStockAsync(ctx.Parse.GetValue(sku)!, DataOptions.Consistency(ctx), token);
            ctx.Output(level, () => DataOptions.RenderStock([level]));
            return ExitCodes.Ok;
        });
        var list = new Command("list", "Show every sku's stock") { DataOptions.Local };
        list.SetRun(async (ctx, token) =>
        {
            var levels = await ctx.Client.ListStockAsync(DataOptions.Consistency(ctx), token: token);
            ctx.Output(levels, () => DataOptions.RenderStock(levels));
            return ExitCodes.Ok;
        });
        stock.Add(set);
        stock.Add(get);
        stock.Add(list);
        return stock;
    }
}
