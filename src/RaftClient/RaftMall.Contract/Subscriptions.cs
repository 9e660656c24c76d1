namespace RaftMall.Contract;

// Push subscriptions: the leader delivers matching events to an HTTP endpoint, in order, at least once, in batches
// (docs/api.md "Subscriptions", docs/messages.md "Push subscriptions").

/// <summary>The body of <c>POST /api/subscriptions</c>.</summary>
/// <param name="Name">The subscription's name (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
/// <param name="Endpoint">The absolute http(s) URL the leader POSTs each batch to (a JSON array of events).</param>
/// <param name="Topics">Message topics to deliver; null or empty for none.</param>
/// <param name="EventTypes">Event types to deliver (<c>message</c> for every message, <c>orderPlaced</c>, ...); null or empty for none. Topics and event types together: 1..32.</param>
/// <param name="TimeoutMs">Deadline of one delivery call, 10..60,000 ms (5,000 when null).</param>
/// <param name="BatchSize">Most events in one call, 1..1,000 (100 when null).</param>
/// <param name="MaxAttempts">Failed attempts of one batch after which the subscription is marked stuck (still retried), 1..1,000,000 (10 when null).</param>
/// <param name="StartAfter">Deliver the events after this sequence (it must still be kept); null: only events committed after the subscription.</param>
public sealed record SubscriptionRequest(string? Name, string? Endpoint, string[]? Topics, string[]? EventTypes, int? TimeoutMs, int? BatchSize, int? MaxAttempts, long? StartAfter);

/// <summary>The body of <c>POST /api/subscriptions/{name}/resume</c>.</summary>
/// <param name="Position">Deliver the events after this sequence: from the oldest kept event minus one up to the newest event.</param>
public sealed record SubscriptionResumeRequest(long? Position);

/// <summary>A push subscription and how far its subscriber acknowledged.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Endpoint">Where batches are POSTed.</param>
/// <param name="Topics">Message topics delivered.</param>
/// <param name="EventTypes">Event types delivered.</param>
/// <param name="TimeoutMs">Deadline of one delivery call.</param>
/// <param name="BatchSize">Most events in one call.</param>
/// <param name="MaxAttempts">Failed attempts before it is marked stuck.</param>
/// <param name="State"><c>active</c>; <c>stuck</c> (failed <paramref name="MaxAttempts"/> times in a row, still retried at the longest backoff); <c>suspended</c> (the outbox dropped an event it had not acknowledged: nothing is delivered until an operator resumes it from a position or deletes it).</param>
/// <param name="Position">Every matching event up to this sequence is acknowledged, as recorded in the log (the leader records every <c>subscriptionCommitMs</c>, so delivery may be a little ahead).</param>
/// <param name="LastSequence">Sequence of the newest event when this was read.</param>
/// <param name="Lag">Events after the position: <paramref name="LastSequence"/> - <paramref name="Position"/> (matching or not).</param>
/// <param name="Attempts">Failed attempts of the current batch (0 after a success).</param>
/// <param name="LastError">The last failed attempt's error; null when there is none.</param>
/// <param name="SuspendedAtSequence">For a suspended subscription: the first event it lost to the outbox's bound; null otherwise.</param>
/// <param name="FirstRetainedSequence">Sequence of the oldest event still kept: a resume position is at least this minus one.</param>
/// <param name="UpdatedAt">When it last changed (the log time of that entry), ISO 8601 UTC.</param>
public sealed record Subscription(string Name, string Endpoint, string[] Topics, string[] EventTypes, int TimeoutMs, int BatchSize, int MaxAttempts,
    string State, long Position, long LastSequence, long Lag, int Attempts, string? LastError, long? SuspendedAtSequence, long FirstRetainedSequence,
    DateTimeOffset UpdatedAt);

/// <summary>Headers of a delivery call: the body is a JSON array of events (<see cref="MallEvent"/>), oldest first.</summary>
public static class SubscriptionHeaders
{
    /// <summary>The subscription's name.</summary>
    public const string Subscription = "RaftMall-Subscription";

    /// <summary>The delivery of this batch, from 1; retries count up (a new leader starts again at 1).</summary>
    public const string Attempt = "RaftMall-Attempt";
}
