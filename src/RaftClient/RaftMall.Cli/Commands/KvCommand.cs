using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall kv: put, get and delete keys, with compare-and-set.</summary>
public static class KvCommand
{
    public static Command Build()
    {
        var kv = new Command("kv", "Put, get and delete keys (with compare-and-set on revision)");
        var key = new Argument<string>("key") { Description = "The key" };
        var value = new Argument<string>("value") { Description = "The value" };
        var ifRevision = new Option<long?>("--if-revision") { Description = "Only if the key is at this revision (0: only if it does not exist)" };
        var put = new Command("put", "Put a value") { key, value, ifRevision, DataOptions.IdempotencyKey };
        put.SetRun(async (ctx, ct) =>
        {
            var entry = await ctx.Client.PutAsync(ctx.Parse.GetValue(key)!, ctx.Parse.GetValue(value)!, ctx.Parse.GetValue(ifRevision), ctx.Parse.GetValue(DataOptions.IdempotencyKey), ct);
            ctx.Output(entry, () => CliContext.Info($"{Markup.Escape(entry.Key)} = {Markup.Escape(entry.Value)} [grey](revision {entry.Revision})[/]"));
            return ExitCodes.Ok;
        });
        var get = new Command("get", "Get a value") { key, DataOptions.Local };
        get.SetRun(async (ctx, ct) =>
        {
            var entry = await ctx.Client.GetAsync(ctx.Parse.GetValue(key)!, DataOptions.Consistency(ctx), token: ct);
            ctx.Output(entry, () => CliContext.Info($"{Markup.Escape(entry.Key)} = {Markup.Escape(entry.Value)} [grey](revision {entry.Revision})[/]"));
            return ExitCodes.Ok;
        });
        var del = new Command("del", "Delete a key") { key, ifRevision, DataOptions.IdempotencyKey };
        del.SetRun(async (ctx, ct) =>
        {
            await ctx.Client.DeleteAsync(ctx.Parse.GetValue(key)!, ctx.Parse.GetValue(ifRevision), ctx.Parse.GetValue(DataOptions.IdempotencyKey), ct);
            ctx.Output(new DeletedKey(ctx.Parse.GetValue(key)!), () => CliContext.Info($"deleted {Markup.Escape(ctx.Parse.GetValue(key)!)}"));
            return ExitCodes.Ok;
        });
        kv.Add(put);
        kv.Add(get);
        kv.Add(del);
        return kv;
    }
}
