using System.Text.Json;

namespace RaftMall.Client;

// Application messages and pull consumers (api.md "Messages and consumers").
public sealed partial class RaftMallClient
{
    /// <summary>Commits an application message: a <c>message</c> event that pull consumers read in order (400 <c>validation</c> for an empty topic or a payload over 2,048 characters).</summary>
    /// <param name="topic">What the message is about (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
    /// <param name="key">An optional key of the application's own (same characters); null for none.</param>
    /// <param name="payload">Any JSON value, at most 2,048 characters of raw text.</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries, so a retry never publishes twice.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    /// <returns>The committed message: its id (what consumers deduplicate by) and sequence.</returns>
    public async Task<PublishedMessage> PublishAsync(string topic, string? key, JsonElement payload, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<PublishedMessage>(await SendAsync(HttpMethod.Post, "/api/messages", new MessageRequest(topic, key, payload), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>
    /// Places an order and publishes its message in one log entry: both or neither (the local message table). The
    /// message event carries the new order's id. Refusals are those of <see cref="PlaceOrderAsync"/>, and nothing is published.
    /// </summary>
    /// <param name="userId">The user placing the order.</param>
    /// <param name="items">The lines: 1..50, each sku at most once, 1..10,000 units each.</param>
    /// <param name="message">The message to publish with it: topic, optional key, JSON payload.</param>
    /// <param name="submitToken">A token from <see cref="IssueTokenAsync"/> for the same user, consumed by this order; null for none.</param>
    /// <param name="ttlSeconds">Seconds until the pending order expires, 1..604,800 (900 when null).</param>
    /// <param name="idempotencyKey">The Idempotency-Key (1..128 visible ASCII characters); null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<OrderWithMessage> PlaceOrderWithMessageAsync(string userId, IEnumerable<OrderLine> items, MessageRequest message, string? submitToken = null,
        int? ttlSeconds = null, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<OrderWithMessage>(await SendAsync(HttpMethod.Post, "/api/orders/with-message",
            new PlaceOrderWithMessageRequest(userId, submitToken, [.. items.Select(i => i.ToRequest())], ttlSeconds, message), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>
    /// Reads the events after a consumer's committed position (linearizable), long-polling up to <paramref name="waitSeconds"/>.
    /// A position behind the outbox's retention throws <see cref="RaftMallException"/> with status 410 and code
    /// <c>events_trimmed</c>: events were lost to this consumer, and an operator decides (<see cref="MoveConsumerAsync"/>).
    /// </summary>
    /// <param name="consumer">The consumer's name (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>); one that never acknowledged reads from the start.</param>
    /// <param name="limit">Most events on the page, 1..1,000.</param>
    /// <param name="waitSeconds">Seconds to wait for a new event, 0..30.</param>
    /// <param name="after">Read after this sequence instead of the committed position (to read ahead of acknowledgements); null for the position.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<EventPage> ReadConsumerEventsAsync(string consumer, int limit = 100, int waitSeconds = 0, long? after = null, CancellationToken token = default) =>
        await ReadAsync<EventPage>(await SendAsync(HttpMethod.Get,
            $"/api/consumers/{Uri.EscapeDataString(consumer)}/events?limit={limit}&waitSeconds={waitSeconds}{(after is { } a ? $"&after={a}" : "")}", null, null, token,
            serverWait: TimeSpan.FromSeconds(Math.Max(0, waitSeconds))).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Acknowledges every event up to <paramref name="sequence"/> for a consumer (writer role); the position moves forward only, so a late or repeated ack changes nothing.</summary>
    /// <param name="consumer">The consumer's name.</param>
    /// <param name="sequence">The last event processed (0..the newest event's; 400 <c>validation</c> beyond).</param>
    /// <param name="idempotencyKey">The Idempotency-Key; null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    /// <returns>The committed position.</returns>
    public async Task<ConsumerPosition> AckConsumerAsync(string consumer, long sequence, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<ConsumerPosition>(await SendAsync(HttpMethod.Post, $"/api/consumers/{Uri.EscapeDataString(consumer)}/ack", new ConsumerAckRequest(sequence), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Sets a consumer's position anywhere up to the newest event (admin role): to replay, or to skip events lost past the retention knowingly.</summary>
    /// <param name="consumer">The consumer's name.</param>
    /// <param name="sequence">The new position: reading resumes after it.</param>
    /// <param name="idempotencyKey">The Idempotency-Key; null generates one, kept across this call's retries.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<ConsumerPosition> MoveConsumerAsync(string consumer, long sequence, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<ConsumerPosition>(await SendAsync(HttpMethod.Put, $"/api/consumers/{Uri.EscapeDataString(consumer)}/position", new ConsumerAckRequest(sequence), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Reads a consumer's committed position, lag and missed events; one that never acknowledged throws <see cref="RaftMallNotFoundException"/> (404 <c>consumer_not_found</c>).</summary>
    /// <param name="consumer">The consumer's name.</param>
    /// <param name="consistency">Linearizable reads through a read barrier; Local reads the answering node's own state, possibly stale.</param>
    /// <param name="token">Cancels the call, its retries included.</param>
    public async Task<ConsumerPosition> GetConsumerAsync(string consumer, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<ConsumerPosition>(await SendAsync(HttpMethod.Get, $"/api/consumers/{Uri.EscapeDataString(consumer)}?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);
}
