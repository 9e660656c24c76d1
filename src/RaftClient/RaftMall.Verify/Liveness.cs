namespace RaftMall.Verify;

/// <summary>A window without an acknowledged write, and the faults in effect during it.</summary>
/// <param name="FromSeconds">The last acknowledgement before the window (or the start of the workload), seconds into the run.</param>
/// <param name="ToSeconds">The first acknowledgement after it (or the last operation's end).</param>
/// <param name="Faults">The timeline entries in effect during the window: each entry lasts until the next one.</param>
public sealed record WriteGap(double FromSeconds, double ToSeconds, double Milliseconds, IReadOnlyList<string> Faults);

/// <summary>
/// Liveness as a user feels it: how long the cluster went without acknowledging any write, and what was being done to
/// it meanwhile. Safety (nothing lost, linearizable) is the checkers'; this measures availability.
/// </summary>
public static class Liveness
{
    private static readonly HashSet<string> WriteKinds = [Kinds.Write, Kinds.Cas, Kinds.Place, Kinds.Pay, Kinds.Cancel, Kinds.Token];

    /// <summary>The <paramref name="count"/> longest windows between consecutive acknowledged writes, longest first.</summary>
    public static IReadOnlyList<WriteGap> LongestWriteGaps(IEnumerable<Operation> history, IReadOnlyList<FaultEvent> timeline, int count = 5)
    {
        var operations = history.ToList();
        if (operations.Count == 0) return [];
        var acks = operations.Where(o => o.Outcome == Outcome.Ok && WriteKinds.Contains(o.Kind)).Select(o => o.CompleteNs / 1e9);
        // The end is the last operation's: a cluster that stopped acknowledging before the load ended has a last window.
        return LongestGaps(acks, operations.Min(o => o.InvokeNs) / 1e9, operations.Max(o => o.CompleteNs) / 1e9, timeline, count);
    }

    /// <summary>The <paramref name="count"/> longest windows between consecutive <paramref name="acks"/> (seconds) within [start, end].</summary>
    public static IReadOnlyList<WriteGap> LongestGaps(IEnumerable<double> acks, double start, double end, IReadOnlyList<FaultEvent> timeline, int count = 5)
    {
        var gaps = new List<(double From, double To)>();
        var previous = start;
        foreach (var ack in acks.Order())
        {
            if (ack > previous) gaps.Add((previous, ack));
            previous = Math.Max(previous, ack);
        }
        if (end > previous) gaps.Add((previous, end));
        return [.. gaps.OrderByDescending(g => g.To - g.From).Take(count)
            .Select(g => new WriteGap(Math.Round(g.From, 3), Math.Round(g.To, 3), Math.Round((g.To - g.From) * 1000, 1), InEffect(timeline, g.From, g.To)))];
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
