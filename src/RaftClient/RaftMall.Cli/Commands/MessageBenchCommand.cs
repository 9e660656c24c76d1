using System.CommandLine;
using System.Globalization;
using RaftMall.Bench;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall bench-messages: the options of <see cref="MessageBench"/>, its progress and its report.
/// </summary>
public static class MessageBenchCommand
{
    public static Command Build()
    {
        var clients = new Option<int>("--clients") { Description = $"Concurrent clients placing orders with their message (1..{MessageBench.MaxClients})", DefaultValueFactory = _ => 64 };
        var consumers = new Option<string>("--consumers") { Description = "Comma-separated subscriber counts, one run each (each subscriber has its own subscription and gets every message)", DefaultValueFactory = _ => "1,4" };
        var duration = new Option<string>("--duration") { Description = "Time of load per run", DefaultValueFactory = _ => "10s" };
        var batch = new Option<int>("--batch-size") { Description = "Events per delivery call (1..1000)", DefaultValueFactory = _ => 100 };
        var prime = new Option<string>("--prime") { Description = "Unmeasured orders and deliveries (one subscriber) before the first run: fresh nodes spend their first tens of seconds compiling their hot paths", DefaultValueFactory = _ => "30s" };
        var command = new Command("bench-messages", """
            Messages delivered per second to HTTP push subscribers (in this process, on 127.0.0.1), and the time from
            commit to delivery, while clients place orders with their message, on a scratch 3-node cluster (free ports;
            removed afterwards). Exit 4 when an acknowledged message did not reach every subscriber.
            Example: raftmall bench-messages --clients 64 --consumers 1,4 --duration 10s
            """)
        {
            clients, consumers, duration, batch, prime,
        };
        command.SetRun(async (ctx, token) =>
        {
            var counts = ctx.Parse.GetValue(consumers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MessageBench.MaxConsumers ? n
                    : throw new CliException(ExitCodes.Usage, $"--consumers: '{c}' is not 1..{MessageBench.MaxConsumers}")).ToArray();
            var clientCount = ctx.Parse.GetValue(clients);
            if (clientCount is < 1 or > MessageBench.MaxClients) throw new CliException(ExitCodes.Usage, $"--clients is 1..{MessageBench.MaxClients}");
            var batchSize = ctx.Parse.GetValue(batch);
            if (batchSize is < 1 or > 1_000) throw new CliException(ExitCodes.Usage, "--batch-size is 1..1000");
            var measured = BenchSettings.ParseDuration(ctx.Parse.GetValue(duration)!, "--duration");
            if (measured < TimeSpan.FromSeconds(1) || measured > TimeSpan.FromMinutes(10)) throw new CliException(ExitCodes.Usage, "--duration is 1s..10m");
            var primeFor = BenchSettings.ParseDuration(ctx.Parse.GetValue(prime)!, "--prime");
            var report = await MessageBench.RunAsync(ctx.Cluster, Programs.NodeDll(), new MessageBench.Options(clientCount, counts, measured, batchSize, primeFor),
                text => TxnBenchCommand.Note(ctx, text), TxnBenchCommand.Progress(ctx), token);
            if (!ctx.Json && !Console.IsErrorRedirected) Console.Error.WriteLine();
            ctx.Output(report, () => MessageBench.Render(report));
            return report.Complete ? ExitCodes.Ok : ExitCodes.VerdictFailed;
        });
        return command;
    }
}
