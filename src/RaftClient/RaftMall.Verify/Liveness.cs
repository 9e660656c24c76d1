namespace RaftMall.Verify;

/// <summary>A window without an acknowledged write, and the faults in effect during it.</summary>
/// <param name="FromSeconds">The last acknowledgement before the window (or the start of the workload), seconds into the run.</param>
/// <param name="ToSeconds">The first acknowledgement after it (or the last operation's end).</param>
/// <param name="Faults">The timeline entries in effect during the window: each entry lasts until the next one.</param>
/// <param name="MostNodesImpaired">The most nodes that were down, frozen, cut off, removed, or restarted and not yet caught up, at
/// once during the window: 0 or 1 make it a window of a single-node fault at most.</param>
public sealed record WriteGap(double FromSeconds, double ToSeconds, double Milliseconds, IReadOnlyList<string> Faults, int MostNodesImpaired = 0);

/// <summary>A node impaired by the nemesis (killed, stopped, frozen, cut off, removed), or answering again.</summary>
public sealed record Impairment(double AtSeconds, string Node, bool Impaired);

/// <summary>
/// Liveness as a user feels it: how long the cluster went without acknowledging any write, and what was being done to
/// it meanwhile. Safety (nothing lost, linearizable) is the checkers'; this measures availability.
/// </summary>
public static class Liveness
{
    private static readonly HashSet<string> WriteKinds = [Kinds.Write, Kinds.Cas, Kinds.Place, Kinds.Pay, Kinds.Cancel, Kinds.Token];

    /// <summary>
    /// The <paramref name="count"/> longest windows between consecutive acknowledged writes, longest first; with
    /// <paramref name="singleFault"/>, only those in which at most one node was impaired at a time.
    /// </summary>
    /// <param name="loadEnd">When the load stopped (seconds), if known: the last window ends there, not at the completion
    /// of the last operation still in flight, which a fault may hold for seconds while no new load arrives.</param>
    public static IReadOnlyList<WriteGap> LongestWriteGaps(
        IEnumerable<Operation> history, IReadOnlyList<FaultEvent> timeline, int count = 5, IReadOnlyList<Impairment>? impairments = null, bool singleFault = false,
        double? loadEnd = null)
    {
        var operations = history.ToList();
        if (operations.Count == 0) return [];
        var acks = operations.Where(o => o.Outcome == Outcome.Ok && WriteKinds.Contains(o.Kind)).Select(o => o.CompleteNs / 1e9);
        // The end is the last operation's: a cluster that stopped acknowledging before the load ended has a last window.
        return LongestGaps(acks, operations.Min(o => o.InvokeNs) / 1e9, loadEnd ?? operations.Max(o => o.CompleteNs) / 1e9, timeline, count, impairments, singleFault);
    }

    /// <summary>The <paramref name="count"/> longest windows between consecutive <paramref name="acks"/> (seconds) within [start, end]; acknowledgements after the end are left out.</summary>
    public static IReadOnlyList<WriteGap> LongestGaps(
        IEnumerable<double> acks, double start, double end, IReadOnlyList<FaultEvent> timeline, int count = 5,
        IReadOnlyList<Impairment>? impairments = null, bool singleFault = false)
    {
        var gaps = new List<(double From, double To)>();
        var previous = start;
        foreach (var ack in acks.Where(a => a <= end).Order())
        {
            if (ack > previous) gaps.Add((previous, ack));
            previous = Math.Max(previous, ack);
        }
        if (end > previous) gaps.Add((previous, end));
        var ordered = impairments?.OrderBy(i => i.AtSeconds).ToList() ?? [];
        return [.. gaps.OrderByDescending(g => g.To - g.From)
            .Select(g => new WriteGap(Math.Round(g.From, 3), Math.Round(g.To, 3), Math.Round((g.To - g.From) * 1000, 1), InEffect(timeline, g.From, g.To),
                MostImpaired(ordered, g.From, g.To)))
            .Where(g => !singleFault || g.MostNodesImpaired <= 1)
            .Take(count)];
    }

    /// <summary>The most nodes impaired at once within [from, to), replaying <paramref name="impairments"/> (in time order).</summary>
    public static int MostImpaired(IReadOnlyList<Impairment> impairments, double from, double to)
    {
        var impaired = new HashSet<string>(StringComparer.Ordinal);
        int? most = null;
        foreach (var e in impairments)
        {
            if (e.AtSeconds >= to) break;
            if (e.AtSeconds > from) most ??= impaired.Count; // as it stood when the window opened
            if (e.Impaired) impaired.Add(e.Node);
            else impaired.Remove(e.Node);
            if (most is { } m) most = Math.Max(m, impaired.Count);
        }
        return most ?? impaired.Count;
    }

    private static List<string> InEffect(IReadOnlyList<FaultEvent> timeline, double from, double to)
    {
        var faults = new List<string>();
        for (var i = 0; i < timeline.Count; i++)
        {
            var begins = timeline[i].AtSeconds;
            var ends = i + 1 < timeline.Count ? timeline[i + 1].AtSeconds : double.MaxValue;
            if (begins < to && ends > from) faults.Add($"{begins:F3} s {timeline[i].What}");
        }
        return faults;
    }
}
