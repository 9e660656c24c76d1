namespace RaftMall.StateMachine;

// Push subscriptions: the leader delivers matching events to an HTTP endpoint in order, at least once, and records
// how far each subscriber acknowledged (docs/messages.md, "Push subscriptions"). The outbox keeps events until they
// are acknowledged, up to its bound; a subscription that would lose an event at the bound is suspended instead.
public sealed partial class MallStateMachine
{
    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);

    private MallResult ApplyCreateSubscription(CreateSubscription c)
    {
        if (Validation.CheckSubscription(c.Spec) is { } error) return Invalid(error);
        if (_subscriptions.TryGetValue(c.Spec.Name, out var existing))
        {
            return existing.Spec.SameAs(c.Spec)
                ? new SubscriptionResult(existing) // a repeated create: the subscription as it is
                : new Rejected(ErrorCode.SubscriptionExists, $"subscription {c.Spec.Name} exists with other settings; delete it first");
        }
        if (_subscriptions.Count >= MallLimits.MaxSubscriptions)
        {
            return new Rejected(ErrorCode.TooManySubscriptions, $"there are {MallLimits.MaxSubscriptions} subscriptions, the most there may be; delete one first");
        }
        var start = c.StartAfter ?? LastEventSequence;
        if (CheckStart(start, "startAfter") is { } invalid) return invalid;
        var subscription = new Subscription(c.Spec, start, Generation: 1, Attempts: 0, LastError: "", Stuck: false, SuspendedAt: 0, LogTimeMs);
        _subscriptions.Add(c.Spec.Name, subscription);
        return new SubscriptionResult(subscription);
    }

    private MallResult ApplySubscriptionProgress(RecordSubscriptionProgress c)
    {
        if (c.Items is null || c.Items.Length > MallLimits.MaxSubscriptions * 4) return Invalid($"a progress record holds at most {MallLimits.MaxSubscriptions * 4} items");
        foreach (var item in c.Items)
        {
            // Checked as a whole first: a malformed record changes nothing.
            if (item.Name is null || item.Position < 0 || item.Position > LastEventSequence || item.Attempts < 0
                || item.LastError is null || item.LastError.Length > MallLimits.MaxSubscriptionErrorLength)
            {
                return Invalid("a progress item names a subscription, a position up to the newest event, attempts >= 0 and an error of at most "
                    + $"{MallLimits.MaxSubscriptionErrorLength} characters");
            }
        }
        int recorded = 0, ignored = 0;
        foreach (var item in c.Items)
        {
            if (!_subscriptions.TryGetValue(item.Name, out var current) || current.Generation != item.Generation || current.Suspended)
            {
                ignored++; // dropped, resumed, retried or suspended since the leader delivered: the operator's word wins
                continue;
            }
            _subscriptions[item.Name] = current with
            {
                Position = Math.Max(current.Position, item.Position),
                Attempts = item.Attempts,
                LastError = item.LastError,
                Stuck = item.Stuck,
                UpdatedAtMs = LogTimeMs,
            };
            recorded++;
        }
        return new SubscriptionProgressResult(recorded, ignored);
    }

    private MallResult ApplyRetrySubscription(RetrySubscription c)
    {
        if (Validation.CheckId(c.Name, "subscription") is { } error) return Invalid(error);
        if (!_subscriptions.TryGetValue(c.Name, out var current)) return SubscriptionNotFound(c.Name);
        if (current.Suspended)
        {
            return new Rejected(ErrorCode.SubscriptionSuspended,
                $"subscription {c.Name} is suspended: events after {current.Position} were trimmed before it acknowledged them; resume it from a position, or delete it");
        }
        return Restart(current, current.Position);
    }

    private MallResult ApplyResumeSubscription(ResumeSubscription c)
    {
        if (Validation.CheckId(c.Name, "subscription") is { } error) return Invalid(error);
        if (!_subscriptions.TryGetValue(c.Name, out var current)) return SubscriptionNotFound(c.Name);
        return CheckStart(c.Position, "position") ?? (MallResult)Restart(current, c.Position);
    }

    private MallResult ApplyDeleteSubscription(DeleteSubscription c)
    {
        if (Validation.CheckId(c.Name, "subscription") is { } error) return Invalid(error);
        if (!_subscriptions.Remove(c.Name, out var last)) return SubscriptionNotFound(c.Name);
        return new SubscriptionResult(last);
    }

    /// <summary>A new generation from <paramref name="position"/>: attempts, error, stuck flag and suspension cleared.</summary>
    private SubscriptionResult Restart(Subscription current, long position)
    {
        var restarted = current with
        {
            Position = position,
            Generation = current.Generation + 1,
            Attempts = 0,
            LastError = "",
            Stuck = false,
            SuspendedAt = 0,
            UpdatedAtMs = LogTimeMs,
        };
        _subscriptions[current.Name] = restarted;
        return new SubscriptionResult(restarted);
    }

    /// <summary>A position to deliver after must be an emitted event whose successors are all still kept.</summary>
    private Rejected? CheckStart(long position, string what)
    {
        var oldest = _events.FirstRetainedSequence - 1;
        if (position < oldest || position > LastEventSequence)
        {
            return Invalid($"{what} is between {oldest} (events up to it are no longer kept) and the newest event's, {LastEventSequence}");
        }
        return null;
    }

    /// <summary>
    /// The outbox is at its bound and drops <paramref name="trimmed"/>: every subscription that matches it and has not
    /// acknowledged it is suspended (a new generation, so the leader's in-flight records cannot undo it).
    /// </summary>
    private void SuspendLaggingSubscriptions(MallEvent trimmed)
    {
        if (_subscriptions.Count == 0) return;
        List<Subscription>? lagging = null;
        foreach (var subscription in _subscriptions.Values)
        {
            if (!subscription.Suspended && subscription.Position < trimmed.Sequence && subscription.Spec.Matches(trimmed)) (lagging ??= []).Add(subscription);
        }
        if (lagging is null) return;
        foreach (var subscription in lagging)
        {
            _subscriptions[subscription.Name] = subscription with { SuspendedAt = trimmed.Sequence, Generation = subscription.Generation + 1, UpdatedAtMs = LogTimeMs };
        }
    }

    private static Rejected SubscriptionNotFound(string name) => new(ErrorCode.SubscriptionNotFound, $"no subscription {name}");

    /// <summary>A subscription, or null when there is none of that name.</summary>
    public Subscription? GetSubscription(string name) => _subscriptions.GetValueOrDefault(name);

    /// <summary>Every subscription, by name.</summary>
    public List<Subscription> ListSubscriptions() => [.. SortedKeys(_subscriptions).Select(name => _subscriptions[name])];

    /// <summary>
    /// The next events to deliver to <paramref name="name"/> after <paramref name="after"/> (the deliverer's position,
    /// at or ahead of the recorded one): up to its batch size of matching events, looking at no more than
    /// <paramref name="scanLimit"/> events. <see cref="DeliveryBatch.ScannedTo"/> is the last sequence looked at, so
    /// a run of events that do not match moves the position too. Null when the subscription does not exist.
    /// </summary>
    public DeliveryBatch? NextDelivery(string name, long after, int scanLimit)
    {
        if (!_subscriptions.TryGetValue(name, out var subscription)) return null;
        if (subscription.Suspended) return new DeliveryBatch(subscription, [], after);
        // Below the oldest kept event nothing that matches was lost: trimming it would have suspended the subscription.
        var from = Math.Max(after, _events.FirstRetainedSequence - 1);
        var events = new List<MallEvent>();
        var scanned = from;
        for (var sequence = from + 1; sequence <= LastEventSequence && events.Count < subscription.Spec.BatchSize && sequence - from <= scanLimit; sequence++)
        {
            var e = _events.At(sequence);
            if (subscription.Spec.Matches(e)) events.Add(e);
            scanned = sequence;
        }
        return new DeliveryBatch(subscription, events, scanned);
    }

    /// <summary>How many of the newest events the outbox keeps (the bound at which a lagging subscription is suspended).</summary>
    public int RetainedEvents => _events.RetainedEvents;
}

/// <summary>What a subscription's deliverer sends next: the subscription as it stands, the events, and how far it looked.</summary>
public sealed record DeliveryBatch(Subscription Subscription, List<MallEvent> Events, long ScannedTo);
