using System.Globalization;
using HdrHistogram;
using Spectre.Console;

namespace RaftMall.Bench;

/// <summary>Latency percentiles of a run, in milliseconds.</summary>
public sealed record LatencyMs(double P50, double P90, double P99, double P999, double Max, double Mean);

/// <summary>The outcome of one load run (also the `--json` shape).</summary>
public sealed record BenchResult(
    string Target,
    string Workload,
    int Clients,
    double Seconds,
    long Requests,
    double OpsPerSecond,
    LatencyMs LatencyMs,
    IReadOnlyDictionary<string, long> Errors,
    double GeneratorCores,
    double? ServerCores,
    int MachineCores,
    long? TermBefore,
    long? TermAfter,
    string Endpoint)
{
    /// <summary>Where a write's time went on the nodes (RaftMall writes only; null otherwise).</summary>
    public IReadOnlyList<WritePathStage>? WritePath { get; init; }

    public long ErrorCount => Errors.Values.Sum();

    /// <summary>Elections during the run (term moves), or null when a term could not be read.</summary>
    public long? Elections => TermBefore is { } before && TermAfter is { } after ? after - before : null;

    public static BenchResult From(string target, BenchSettings settings, LongHistogram latencyUs, long requests, TimeSpan elapsed,
        IReadOnlyDictionary<string, long> errors, (double Generator, double? Servers) cpu, long? termBefore, long? termAfter, Uri endpoint)
    {
        static double Ms(double us) => Math.Round(us / 1000.0, 3);
        var latency = latencyUs.TotalCount == 0
            ? new LatencyMs(0, 0, 0, 0, 0, 0)
            : new LatencyMs(
                Ms(latencyUs.GetValueAtPercentile(50)), Ms(latencyUs.GetValueAtPercentile(90)), Ms(latencyUs.GetValueAtPercentile(99)),
                Ms(latencyUs.GetValueAtPercentile(99.9)), Ms(latencyUs.GetMaxValue()), Ms(latencyUs.GetMean()));
        return new BenchResult(target, BenchSettings.Name(settings.Workload), settings.Clients, Math.Round(elapsed.TotalSeconds, 2), requests,
            Math.Round(requests / elapsed.TotalSeconds, 1), latency, errors, Math.Round(cpu.Generator, 2), cpu.Servers is { } s ? Math.Round(s, 2) : null,
            Environment.ProcessorCount, termBefore, termAfter, endpoint.ToString());
    }

    public void Render()
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Target}[/] {Workload}, {Clients} clients, {Seconds:0.#} s");
        table.AddColumns("ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
        table.AddRow(OpsPerSecond.ToString("N0", CultureInfo.InvariantCulture), F(LatencyMs.P50), F(LatencyMs.P90), F(LatencyMs.P99), F(LatencyMs.P999),
            F(LatencyMs.Max), ErrorCount.ToString("N0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        foreach (var (kind, count) in Errors) AnsiConsole.MarkupLine($"  [red]{count:N0}[/] × {Markup.Escape(kind)}");
        var servers = ServerCores is { } s ? $", servers {s:0.00}" : "";
        AnsiConsole.MarkupLine($"  CPU (cores of {MachineCores}): load generator {GeneratorCores:0.00}{servers}; requests went to {Markup.Escape(Endpoint)}");
        if (WritePath is { } path) Bench.WritePath.Render(path);
        if (Elections is { } elections) AnsiConsole.MarkupLine(elections == 0 ? "  no election during the run" : $"  [yellow]{elections} election(s) during the run[/] (term {TermBefore} → {TermAfter})");
    }

    private static string F(double ms) => ms.ToString(ms < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
}
