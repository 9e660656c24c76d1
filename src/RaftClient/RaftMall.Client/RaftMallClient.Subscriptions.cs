namespace RaftMall.Client;

// Push subscriptions (api.md "Subscriptions"): every call needs an admin key.
public sealed partial class RaftMallClient
{
    /// <summary>
    /// Creates a push subscription: the leader POSTs matching events to its endpoint, in order, at least once, in
    /// batches. Creating it again with the same settings changes nothing; other settings under its name throw
    /// <see cref="RaftMallConflictException"/> (409 <c>subscription_exists</c>).
    /// </summary>
    /// <param name="subscription">Its name, endpoint, topics and event types, timeout, batch size, attempts before stuck, and where to start.</param>
    /// <param name="idempotencyKey">The Idempotency-Key; null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<Subscription> CreateSubscriptionAsync(SubscriptionRequest subscription, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Subscription>(await SendAsync(HttpMethod.Post, "/api/subscriptions", subscription, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Lists every subscription with its state (active, stuck, suspended), recorded position, lag, attempts and last error.</summary>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<Subscription[]> ListSubscriptionsAsync(ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<Subscription[]>(await SendAsync(HttpMethod.Get, $"/api/subscriptions?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Reads one subscription; an unknown one throws <see cref="RaftMallNotFoundException"/> (404 <c>subscription_not_found</c>).</summary>
    /// <param name="name">The subscription's name.</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<Subscription> GetSubscriptionAsync(string name, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<Subscription>(await SendAsync(HttpMethod.Get, $"/api/subscriptions/{Uri.EscapeDataString(name)}?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Drops a subscription and its position; answers its last state.</summary>
    /// <param name="name">The subscription's name.</param>
    /// <param name="idempotencyKey">The Idempotency-Key; null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<Subscription> DeleteSubscriptionAsync(string name, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Subscription>(await SendAsync(HttpMethod.Delete, $"/api/subscriptions/{Uri.EscapeDataString(name)}", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Retries a stuck subscription now: its attempts and stuck flag are cleared and the leader calls it at once (409 <c>subscription_suspended</c> for a suspended one: resume it).</summary>
    /// <param name="name">The subscription's name.</param>
    /// <param name="idempotencyKey">The Idempotency-Key; null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<Subscription> RetrySubscriptionAsync(string name, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Subscription>(await SendAsync(HttpMethod.Post, $"/api/subscriptions/{Uri.EscapeDataString(name)}/retry", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Resumes a subscription from a position: delivery continues with the events after it (a suspended one: knowingly past the events it lost).</summary>
    /// <param name="name">The subscription's name.</param>
    /// <param name="position">Deliver after this sequence: from the oldest kept event minus one up to the newest event.</param>
    /// <param name="idempotencyKey">The Idempotency-Key; null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<Subscription> ResumeSubscriptionAsync(string name, long position, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Subscription>(await SendAsync(HttpMethod.Post, $"/api/subscriptions/{Uri.EscapeDataString(name)}/resume", new SubscriptionResumeRequest(position), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
}
