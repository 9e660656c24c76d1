using System.Globalization;
using Spectre.Console;

namespace RaftMall.Bench;

/// <summary>
/// The counters of one node's Prometheus page (/metrics) that break a write down: every sample line as
/// "name{labels}" → value. Histograms appear as their _sum and _count series.
/// </summary>
public sealed class MetricsPage(IReadOnlyDictionary<string, double> samples)
{
    public static MetricsPage Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            // name{labels} value [timestamp]; label values may hold spaces, so the series ends at the closing brace.
            var seriesEnd = line.IndexOf('{', StringComparison.Ordinal) is var open and >= 0 ? line.IndexOf('}', open) + 1 : line.IndexOf(' ', StringComparison.Ordinal);
            if (seriesEnd <= 0 || seriesEnd >= line.Length) continue;
            var rest = line[seriesEnd..].Trim().Split(' ');
            if (double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) samples[line[..seriesEnd]] = value;
        }
        return new MetricsPage(samples);
    }

    /// <summary>
    /// A node's /metrics page fetched with <paramref name="request"/> (it carries the key), or null when metrics are off
    /// there (cluster.yml metrics: false) or the node does not answer.
    /// </summary>
    public static async Task<MetricsPage?> ScrapeAsync(HttpClient http, HttpRequestMessage request, CancellationToken token)
    {
        try
        {
            using (request)
            {
                using var response = await http.SendAsync(request, token);
                return response.IsSuccessStatusCode ? Parse(await response.Content.ReadAsStringAsync(token)) : null;
            }
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The cumulative counts of histogram <paramref name="name"/> by upper bound, summed over its series.</summary>
    public IReadOnlyDictionary<double, double> Buckets(string name)
    {
        var buckets = new Dictionary<double, double>();
        var prefix = name + "_bucket{";
        foreach (var (series, value) in samples)
        {
            if (!series.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var at = series.IndexOf("le=\"", StringComparison.Ordinal);
            if (at < 0) continue;
            var text = series[(at + 4)..series.IndexOf('"', at + 4)];
            var bound = text == "+Inf" ? double.PositiveInfinity : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            buckets[bound] = buckets.GetValueOrDefault(bound) + value;
        }
        return buckets;
    }

    /// <summary>The sum over every series of <paramref name="name"/> whose labels contain <paramref name="label"/> (e.g. stage="queue").</summary>
    public double Sum(string name, string? label = null) => samples
        .Where(s => s.Key.StartsWith(name, StringComparison.Ordinal) && (s.Key.Length == name.Length || s.Key[name.Length] == '{')
            && (label is null || s.Key.Contains(label, StringComparison.Ordinal)))
        .Sum(s => s.Value);
}

/// <summary>
/// A histogram's cumulative bucket counts (upper bound → count, +Inf as <see cref="double.PositiveInfinity"/>) over
/// a run: summed over nodes, after minus before.
/// </summary>
public sealed class HistogramDelta(SortedDictionary<double, double> cumulative)
{
    public static HistogramDelta Between(IEnumerable<MetricsPage> before, IEnumerable<MetricsPage> after, string histogram)
    {
        var counts = new SortedDictionary<double, double>();
        foreach (var (pages, sign) in new[] { (after, 1.0), (before, -1.0) })
        {
            foreach (var page in pages)
            {
                foreach (var (bound, count) in page.Buckets(histogram)) counts[bound] = counts.GetValueOrDefault(bound) + (sign * count);
            }
        }
        return new HistogramDelta(counts);
    }

    public double Count => cumulative.Count == 0 ? 0 : cumulative.Values.Last();

    /// <summary>The share of observations at or below <paramref name="bound"/> (one of the bucket bounds), or null when none were recorded.</summary>
    public double? ShareAtMost(double bound) => Count <= 0 || !cumulative.TryGetValue(bound, out var within) ? null : within / Count;

    /// <summary>The quantile <paramref name="q"/> interpolated linearly inside its bucket (as Prometheus' histogram_quantile), or null when none were recorded.</summary>
    public double? Quantile(double q)
    {
        if (Count <= 0) return null;
        var rank = q * Count;
        double lower = 0, below = 0;
        foreach (var (bound, count) in cumulative)
        {
            if (count >= rank)
            {
                if (double.IsPositiveInfinity(bound)) return lower;
                return count == below ? bound : lower + ((bound - lower) * (rank - below) / (count - below));
            }
            (lower, below) = (bound, count);
        }
        return lower;
    }
}

/// <summary>A leader's and a follower's metrics pages taken at the same moment.</summary>
public sealed record WritePathSample(MetricsPage Leader, MetricsPage? Follower);

/// <summary>One line of the breakdown: mean milliseconds per <see cref="Per"/> (a write, a flush, a request).</summary>
public sealed record WritePathStage(string Stage, double MeanMs, string Per, int Depth);

/// <summary>
/// Where one write's time goes, from the nodes' own histograms over a run (means: sums and counts after minus before):
/// the gateway's total, its stages on the leader (queue, commit, apply, handoff), and inside commit the leader's WAL
/// flush, the AppendEntries round trip and the follower's flush. The client's mean minus the gateway's is what HTTP and
/// the load generator add outside the node.
/// </summary>
public static class WritePath
{
    public static IReadOnlyList<WritePathStage> Between(WritePathSample before, WritePathSample after, double clientMeanMs)
    {
        var stages = new List<WritePathStage> { new("client round trip (load generator)", clientMeanMs, "write", 0) };
        var gateway = Mean(before.Leader, after.Leader, "raftmall_write_duration_seconds", null, 1000);
        Add(stages, "node: gateway, take to answer", gateway, "write", 1);
        Add(stages, "queue (waiting for an entry)", Mean(before.Leader, after.Leader, "raftmall_write_stage_duration_seconds", "stage=\"queue\"", 1000), "write", 2);
        Add(stages, "commit (append, flush, round, commit)", Mean(before.Leader, after.Leader, "raftmall_write_stage_duration_seconds", "stage=\"commit\"", 1000), "write", 2);
        Add(stages, "leader WAL flush", Mean(before.Leader, after.Leader, "dotnext_wal_entries_flush_duration_milliseconds", null, 1), "flush", 3);
        Add(stages, "AppendEntries round trip", Mean(before.Leader, after.Leader, "dotnext_raft_client_response_time_milliseconds", "dotnext_raft_client_message=\"AppendEntries\"", 1), "request", 3);
        if (before.Follower is { } fb && after.Follower is { } fa)
        {
            Add(stages, "follower flush before its answer", Mean(fb, fa, "raftmall_raft_follower_flush_duration_seconds", null, 1000), "flush", 4);
        }
        Add(stages, "apply (state machine)", Mean(before.Leader, after.Leader, "raftmall_write_stage_duration_seconds", "stage=\"apply\"", 1000), "write", 2);
        Add(stages, "handoff (apply done to proposer resumed)", Mean(before.Leader, after.Leader, "raftmall_write_stage_duration_seconds", "stage=\"handoff\"", 1000), "write", 2);
        if (gateway is { } g) stages.Add(new WritePathStage("outside the node (HTTP, client)", Math.Round(clientMeanMs - g, 3), "write", 1));
        Add(stages, "writes per entry", Mean(before.Leader, after.Leader, "raftmall_log_writes_per_entry", null, 1), "entry", 0);
        return stages;
    }

    private static void Add(List<WritePathStage> stages, string name, double? mean, string per, int depth)
    {
        if (mean is { } m) stages.Add(new WritePathStage(name, Math.Round(m, 3), per, depth));
    }

    /// <summary>(Δsum / Δcount) × scale, or null when nothing was recorded in between.</summary>
    private static double? Mean(MetricsPage before, MetricsPage after, string histogram, string? label, double scale)
    {
        var count = after.Sum(histogram + "_count", label) - before.Sum(histogram + "_count", label);
        if (count <= 0) return null;
        return (after.Sum(histogram + "_sum", label) - before.Sum(histogram + "_sum", label)) / count * scale;
    }

    public static void Render(IReadOnlyList<WritePathStage> stages)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]where a write's time goes[/] (means over the run)");
        table.AddColumns("stage", "mean", "per");
        foreach (var stage in stages)
        {
            var mean = stage.Per == "entry" ? stage.MeanMs.ToString("0.0", CultureInfo.InvariantCulture) : stage.MeanMs.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
            table.AddRow(new string(' ', 2 * stage.Depth) + Markup.Escape(stage.Stage), mean, stage.Per);
        }
        AnsiConsole.Write(table);
    }
}
