using System.CommandLine;
using System.Globalization;
using RaftMall.Bench;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall bench-txn: the options of <see cref="TxnBench"/>, its progress and its report.
/// </summary>
public static class TxnBenchCommand
{
    public static Command Build()
    {
        var clients = new Option<string>("--clients") { Description = "Comma-separated client counts, one run each", DefaultValueFactory = _ => "16,64" };
        var duration = new Option<string>("--duration") { Description = "Measured time per run", DefaultValueFactory = _ => "10s" };
        var warmup = new Option<string>("--warmup") { Description = "Unmeasured load before each run", DefaultValueFactory = _ => "2s" };
        var wait = new Option<string>("--wait") { Description = "finished: a transaction counts when every branch acknowledged (comparable with direct); decided: when its decision is in the log", DefaultValueFactory = _ => "finished" };
        var skipDirect = new Option<bool>("--skip-direct") { Description = "Only the coordinated runs" };
        var prime = new Option<string>("--prime")
        {
            Description = "Unmeasured transactions (16 clients) before the first run: fresh nodes spend their first seconds compiling their hot paths",
            DefaultValueFactory = _ => "20s",
        };
        var command = new Command("bench-txn", """
            TCC transactions/s through RaftMall with 2 HTTP participants (two LoyaltyPoints processes), against the same
            try+confirm calls made directly, on a scratch 3-node cluster (free ports; removed afterwards).
            Example: raftmall bench-txn --clients 16,64 --duration 10s
            """)
        {
            clients, duration, warmup, wait, skipDirect, prime,
        };
        command.SetRun(async (ctx, token) =>
        {
            var counts = ctx.Parse.GetValue(clients)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= TxnBench.MaxClients ? n
                    : throw new CliException(ExitCodes.Usage, $"--clients: '{c}' is not 1..{TxnBench.MaxClients}")).ToArray();
            var waitMode = ctx.Parse.GetValue(wait)!;
            if (waitMode is not ("finished" or "decided")) throw new CliException(ExitCodes.Usage, "--wait is finished or decided");
            var measured = BenchSettings.ParseDuration(ctx.Parse.GetValue(duration)!, "--duration");
            var warm = BenchSettings.ParseDuration(ctx.Parse.GetValue(warmup)!, "--warmup");
            var primeFor = BenchSettings.ParseDuration(ctx.Parse.GetValue(prime)!, "--prime");
            if (measured < TimeSpan.FromSeconds(1) || measured > TimeSpan.FromMinutes(10)) throw new CliException(ExitCodes.Usage, "--duration is 1s..10m");
            var report = await TxnBench.RunAsync(ctx.Cluster, Programs.NodeDll(), Programs.PointsDll(),
                new TxnBench.Options(counts, measured, warm, primeFor, waitMode, !ctx.Parse.GetValue(skipDirect)), text => Note(ctx, text), Progress(ctx), token);
            if (!ctx.Json && !Console.IsErrorRedirected) Console.Error.WriteLine();
            ctx.Output(report, () => TxnBench.Render(report));
            return report.ExactlyOnce ? ExitCodes.Ok : ExitCodes.VerdictFailed;
        });
        return command;
    }

    /// <summary>A bench's running figures on one line of stderr (not with --json or a redirected stderr).</summary>
    internal static Action<string> Progress(CliContext ctx) => line =>
    {
        if (ctx.Json || Console.IsErrorRedirected) return;
        Console.Error.Write("\r  " + line.PadRight(90));
    };

    /// <summary>A bench's plain note: grey on the console, or on stderr with --json.</summary>
    internal static void Note(CliContext ctx, string text)
    {
        if (ctx.Json) Console.Error.WriteLine(text);
        else CliContext.Info($"[grey]{Markup.Escape(text)}[/]");
    }
}
