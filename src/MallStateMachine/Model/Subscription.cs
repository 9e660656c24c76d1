namespace RaftMall.StateMachine;

/// <summary>What a push subscription asks for: where to deliver, which events, and how.</summary>
/// <param name="Name">Its name (an id: 1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
/// <param name="Endpoint">The absolute http(s) URL the leader POSTs batches to.</param>
/// <param name="Topics">Message topics to deliver (a message event whose topic is one of them).</param>
/// <param name="EventTypes">Event types to deliver by name (<c>orderPlaced</c>, <c>message</c>: every message, ...).</param>
/// <param name="TimeoutMs">Deadline of one delivery call.</param>
/// <param name="BatchSize">Most events in one delivery call.</param>
/// <param name="MaxAttempts">Failed attempts of one batch after which the subscription is marked stuck (and still retried).</param>
public sealed record SubscriptionSpec(string Name, string Endpoint, string[] Topics, string[] EventTypes, int TimeoutMs, int BatchSize, int MaxAttempts)
{
    /// <summary>True when <paramref name="e"/> is delivered to this subscription.</summary>
    public bool Matches(in MallEvent e)
    {
        if (e.Kind == EventKind.Message && e.Subject is { } topic && Array.IndexOf(Topics, topic) >= 0) return true;
        return EventTypes.Length > 0 && Array.IndexOf(EventTypes, EventKindNames.Name(e.Kind)) >= 0;
    }

    /// <summary>Same settings (records compare arrays by reference).</summary>
    public bool SameAs(SubscriptionSpec other) =>
        Name == other.Name && Endpoint == other.Endpoint && Topics.SequenceEqual(other.Topics) && EventTypes.SequenceEqual(other.EventTypes)
        && TimeoutMs == other.TimeoutMs && BatchSize == other.BatchSize && MaxAttempts == other.MaxAttempts;
}

/// <summary>
/// A push subscription and its replicated progress.
/// </summary>
/// <param name="Spec">What it asks for.</param>
/// <param name="Position">Every matching event up to this sequence is acknowledged by the subscriber (recorded by the leader, batched).</param>
/// <param name="Generation">
/// Bumped by every operator action (create, retry, resume) and by a suspension. The leader's progress records carry the
/// generation they were made under; a record of an older generation is ignored, so an in-flight record never undoes
/// an operator's resume or retry.
/// </param>
/// <param name="Attempts">Failed attempts of the current batch (0 after a success).</param>
/// <param name="LastError">The last failed attempt's error ("" when none).</param>
/// <param name="Stuck">Failed <see cref="SubscriptionSpec.MaxAttempts"/> times in a row; still retried, at the longest backoff.</param>
/// <param name="SuspendedAt">
/// 0, or the sequence of the first matching event the outbox trimmed before the subscriber acknowledged it: delivery
/// stops until an operator resumes it from a position (or drops it). Never a silent loss.
/// </param>
/// <param name="UpdatedAtMs">Log time of the last change.</param>
public sealed record Subscription(SubscriptionSpec Spec, long Position, long Generation, int Attempts, string LastError, bool Stuck, long SuspendedAt, long UpdatedAtMs)
{
    public string Name => Spec.Name;

    public bool Suspended => SuspendedAt > 0;
}

/// <summary>The leader's record of one subscription's progress (one item of <see cref="RecordSubscriptionProgress"/>).</summary>
/// <param name="Name">The subscription.</param>
/// <param name="Generation">The generation the leader delivered under; ignored when the subscription has moved on.</param>
/// <param name="Position">Acknowledged up to here (the recorded position only moves forward).</param>
/// <param name="Attempts">Failed attempts of the batch after it (0: none).</param>
/// <param name="LastError">The last error ("" when none).</param>
/// <param name="Stuck">Attempts reached the subscription's MaxAttempts.</param>
public readonly record struct SubscriptionProgress(string Name, long Generation, long Position, int Attempts, string LastError, bool Stuck);
