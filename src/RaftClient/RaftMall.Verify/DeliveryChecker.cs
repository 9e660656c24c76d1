namespace RaftMall.Verify;

/// <summary>
/// What one subscription's consumer got, against what was acknowledged to the publishers.
/// </summary>
/// <param name="Acknowledged">Messages whose publish was acknowledged: each must be applied.</param>
/// <param name="Applied">Distinct messages applied (acknowledged ones, and ones whose publish had an unknown outcome but committed).</param>
/// <param name="Duplicates">Deliveries of a message already applied, absorbed (at-least-once delivery allows them).</param>
/// <param name="Lost">Acknowledged sequences never applied.</param>
/// <param name="OutOfOrder">Sequences applied after a higher one: the subscription's order was broken.</param>
/// <param name="AppliedTwice">Sequences applied more than once: the dedup table did not hold.</param>
public sealed record DeliveryCheck(string Subscription, int Acknowledged, int Applied, int Duplicates, long[] Lost, long[] OutOfOrder, long[] AppliedTwice)
{
    public bool Ok => Lost.Length == 0 && OutOfOrder.Length == 0 && AppliedTwice.Length == 0;

    /// <summary>The violations in words, none when <see cref="Ok"/>.</summary>
    public IEnumerable<string> Violations()
    {
        if (Lost.Length > 0) yield return $"subscription {Subscription}: {Lost.Length} acknowledged messages never applied ({Some(Lost)})";
        if (OutOfOrder.Length > 0) yield return $"subscription {Subscription}: {OutOfOrder.Length} messages applied after a later one ({Some(OutOfOrder)})";
        if (AppliedTwice.Length > 0) yield return $"subscription {Subscription}: {AppliedTwice.Length} messages applied twice ({Some(AppliedTwice)})";
    }

    private static string Some(long[] sequences) =>
        string.Join(", ", sequences.Take(10)) + (sequences.Length > 10 ? $", ... {sequences.Length - 10} more" : "");
}

/// <summary>
/// The delivery check of reliable messages: every acknowledged message applied, exactly once, in outbox order per
/// subscription. Delivery is at least once, so repeats are counted, not failed; a message whose publish had an unknown
/// outcome may or may not be there.
/// </summary>
public static class DeliveryChecker
{
    /// <summary>
    /// What a consumer that deduplicates by id applies, from everything it received in arrival order: each sequence the
    /// first time it arrives, and the count of repeats (what its dedup table absorbs).
    /// </summary>
    public static (List<long> Applied, int Repeats) FirstArrivals(IEnumerable<long> received)
    {
        var seen = new HashSet<long>();
        var applied = new List<long>();
        var repeats = 0;
        foreach (var sequence in received)
        {
            if (seen.Add(sequence)) applied.Add(sequence);
            else repeats++;
        }
        return (applied, repeats);
    }

    /// <summary>
    /// Checks the sequences a consumer applied, in the order it applied them, against the acknowledged ones: none lost,
    /// strictly increasing (outbox order), none twice.
    /// </summary>
    public static DeliveryCheck Check(string subscription, IReadOnlyCollection<long> acknowledged, IReadOnlyList<long> applied, int duplicates)
    {
        var distinct = new HashSet<long>();
        var twice = new List<long>();
        var outOfOrder = new List<long>();
        var highest = long.MinValue;
        foreach (var sequence in applied)
        {
            if (!distinct.Add(sequence))
            {
                twice.Add(sequence);
                continue;
            }
            if (sequence < highest) outOfOrder.Add(sequence);
            highest = Math.Max(highest, sequence);
        }
        long[] lost = [.. acknowledged.Where(s => !distinct.Contains(s)).Order()];
        return new DeliveryCheck(subscription, acknowledged.Count, distinct.Count, duplicates, lost, [.. outOfOrder], [.. twice]);
    }
}
