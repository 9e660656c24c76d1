using System.CommandLine;
using RaftMall.Bench;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall bench: an HTTP load generator for RaftMall and, with the same request pattern, for etcd.</summary>
public static class BenchCommand
{
    public static readonly Option<string> WorkloadOption = new("--workload", "-w")
    {
        Description = "orders (RaftMall only), kv-put or kv-get (linearizable)",
        DefaultValueFactory = _ => "kv-put",
        CompletionSources = { "orders", "kv-put", "kv-get" },
    };

    public static readonly Option<int> ClientsOption = new("--clients", "-n")
    {
        Description = "Concurrent clients, each with one request in flight",
        DefaultValueFactory = _ => 64,
    };

    public static readonly Option<string> DurationOption = new("--duration", "-d") { Description = "Measured time (30s, 2m)", DefaultValueFactory = _ => "30s" };
    public static readonly Option<string> WarmupOption = new("--warmup") { Description = "Unmeasured load before it (JIT, connections)", DefaultValueFactory = _ => "3s" };
    public static readonly Option<string> TargetOption = new("--target") { Description = "raftmall or etcd", DefaultValueFactory = _ => "raftmall" };

    public static readonly Option<string?> EndpointsOption = new("--endpoints")
    {
        Description = "Comma-separated base URLs (etcd: its client URLs; default http://127.0.0.1:2379). RaftMall uses the cluster file",
    };

    public static readonly Option<long> KeysOption = new("--keys") { Description = "Size of the key space (at least 100,000)", DefaultValueFactory = _ => 100_000 };
    public static readonly Option<int> ValueSizeOption = new("--value-size") { Description = "Bytes per kv value", DefaultValueFactory = _ => 256 };

    public static readonly Option<string> ToOption = new("--to")
    {
        Description = "leader: every client talks to the leader; all: clients spread over every member (followers forward)",
        DefaultValueFactory = _ => "leader",
    };

    public static readonly Option<string> TimeoutOption = new("--timeout") { Description = "Per-request timeout", DefaultValueFactory = _ => "10s" };

    public static Command Build()
    {
        var bench = new Command("bench", """
            Load a running cluster and report throughput and latency (HDR histogram: p50/p90/p99/p99.9/max), errors by
            kind, CPU used by the load generator and the servers, and elections during the run.
            Examples: raftmall bench -w kv-put -n 64 -d 30s
                      raftmall bench --target etcd --endpoints http://127.0.0.1:2379 -w kv-put -n 64
                      raftmall bench compare          (RaftMall against a local etcd, see bench/compare-etcd.sh)
            """)
        {
            WorkloadOption, ClientsOption, DurationOption, WarmupOption, TargetOption, EndpointsOption, KeysOption, ValueSizeOption, ToOption, TimeoutOption,
        };
        bench.SetRun(async (ctx, token) =>
        {
            var settings = Settings(ctx.Parse);
            var target = Target(ctx, ctx.Parse.GetValue(TargetOption)!, ctx.Parse.GetValue(EndpointsOption));
            if (!target.Supports(settings.Workload)) throw new CliException(ExitCodes.Usage, $"{target.Name} has no {BenchSettings.Name(settings.Workload)} workload; compare RaftMall's orders with etcd's kv-put");
            var result = await RunOneAsync(ctx, target, settings, token);
            ctx.Output(result, result.Render);
            return ExitCodes.Ok;
        });
        bench.Add(CompareCommand.Build());
        bench.Add(FailoverBenchCommand.Build());
        bench.Add(RecoveryBenchCommand.Build());
        return bench;
    }

    public static BenchSettings Settings(ParseResult parse)
    {
        var clients = parse.GetValue(ClientsOption);
        if (clients < 1 || clients > BenchSettings.MaximumClients) throw new CliException(ExitCodes.Usage, $"--clients must be 1..{BenchSettings.MaximumClients}");
        var keys = parse.GetValue(KeysOption);
        if (keys < BenchSettings.MinimumKeys) throw new CliException(ExitCodes.Usage, $"--keys must be at least {BenchSettings.MinimumKeys:N0}");
        var valueSize = parse.GetValue(ValueSizeOption);
        if (valueSize < 1 || valueSize > BenchSettings.MaximumValueSize) throw new CliException(ExitCodes.Usage, $"--value-size must be 1..{BenchSettings.MaximumValueSize}");
        var to = parse.GetValue(ToOption);
        if (to is not ("leader" or "all")) throw new CliException(ExitCodes.Usage, "--to must be leader or all");
        var duration = BenchSettings.ParseDuration(parse.GetValue(DurationOption)!, "--duration");
        if (duration < TimeSpan.FromSeconds(1)) throw new CliException(ExitCodes.Usage, "--duration must be at least 1s");
        return new BenchSettings(
            BenchSettings.ParseWorkload(parse.GetValue(WorkloadOption)!), clients, duration,
            BenchSettings.ParseDuration(parse.GetValue(WarmupOption)!, "--warmup"), keys, valueSize, to == "leader",
            BenchSettings.ParseDuration(parse.GetValue(TimeoutOption)!, "--timeout"));
    }

    public static BenchTarget Target(CliContext ctx, string name, string? endpoints) => name switch
    {
        "raftmall" => new RaftMallTarget(ctx.Cluster, ctx.Connection.ApiKey),
        "etcd" => new EtcdTarget(ParseEndpoints(endpoints ?? "http://127.0.0.1:2379")),
        _ => throw new CliException(ExitCodes.Usage, $"unknown target '{name}': choose raftmall or etcd"),
    };

    public static async Task<BenchResult> RunOneAsync(CliContext ctx, BenchTarget target, BenchSettings settings, CancellationToken token)
    {
        var live = !ctx.Json && !Console.IsErrorRedirected;
        try
        {
            var result = await new LoadGenerator(target, settings).RunAsync((elapsed, opsPerSecond, errors) =>
            {
                var line = $"  {target.Name} {BenchSettings.Name(settings.Workload)} ×{settings.Clients}  {elapsed.TotalSeconds,5:0}/{settings.Duration.TotalSeconds:0} s  {opsPerSecond,10:N0} ops/s  errors {errors:N0}";
                if (live) Console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100, 100)));
                else if ((int)elapsed.TotalSeconds % 10 == 0) Console.Error.WriteLine(line);
            }, token);
            if (live) Console.Error.WriteLine();
            return result;
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unavailable, $"{target.Name}: {e.Message}");
        }
    }

    private static Uri[] ParseEndpoints(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var uris = new List<Uri>();
        foreach (var part in parts)
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new CliException(ExitCodes.Usage, $"--endpoints: '{part}' is not an http(s) URL");
            }
            uris.Add(uri);
        }
        if (uris.Count == 0) throw new CliException(ExitCodes.Usage, "--endpoints is empty");
        return [.. uris];
    }

    public static void Note(CliContext ctx, string markup)
    {
        if (!ctx.Json) AnsiConsole.MarkupLine(markup);
        else Console.Error.WriteLine(Markup.Remove(markup));
    }
}
