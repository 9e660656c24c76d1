using System.Text.Json;

namespace RaftMall.Contract;

// Application messages (the local message table) and pull consumers with a committed position (docs/api.md "Messages").

/// <summary>An application message to commit: the body of <c>POST /api/messages</c>, and the <c>message</c> of an order placed with one.</summary>
/// <param name="Topic">What the message is about, for consumers to filter by (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
/// <param name="Key">An optional key of the application's own (same characters), e.g. the business id the message is about; null for none.</param>
/// <param name="Payload">Any JSON value, at most 2,048 characters as sent (its raw text is kept and delivered as it is).</param>
public sealed record MessageRequest(string? Topic, string? Key, JsonElement? Payload);

/// <summary>The body of <c>POST /api/orders/with-message</c>: an order and the message that goes with it, committed in one log entry, both or neither.</summary>
/// <param name="UserId">The user placing the order (as in <see cref="PlaceOrderRequest"/>).</param>
/// <param name="Token">A submit token of the same user, consumed by this order; null for none.</param>
/// <param name="Items">The lines: 1..50, each sku at most once.</param>
/// <param name="TtlSeconds">Seconds until the pending order expires, 1..604,800 (900 when null).</param>
/// <param name="Message">The message published when, and only when, the order is placed; its event carries the new order's id.</param>
public sealed record PlaceOrderWithMessageRequest(string? UserId, string? Token, OrderItemRequest[]? Items, long? TtlSeconds, MessageRequest? Message);

/// <summary>A committed message: the answer of <c>POST /api/messages</c>.</summary>
/// <param name="Id">The message's event id (<c>evt-</c> and the sequence): unique for the life of the cluster, what a consumer deduplicates by.</param>
/// <param name="Sequence">Its sequence in the outbox, among all events.</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Key">Its key; null when none was given.</param>
/// <param name="At">When it was committed (the log time of its entry), ISO 8601 UTC.</param>
public sealed record PublishedMessage(string Id, long Sequence, string Topic, string? Key, DateTimeOffset At);

/// <summary>The answer of <c>POST /api/orders/with-message</c>: the placed order and its committed message.</summary>
/// <param name="Order">The pending order.</param>
/// <param name="Message">Its message; the message event's <c>orderId</c> is the order's.</param>
public sealed record OrderWithMessage(Order Order, PublishedMessage Message);

/// <summary>The body of <c>POST /api/consumers/{name}/ack</c> and <c>PUT /api/consumers/{name}/position</c>.</summary>
/// <param name="Sequence">The sequence of the last event processed (0..the newest event's): everything up to it is acknowledged.</param>
public sealed record ConsumerAckRequest(long? Sequence);

/// <summary>A pull consumer's committed position, with how far it is behind the outbox.</summary>
/// <param name="Name">The consumer's name (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
/// <param name="Sequence">Every event up to this sequence is acknowledged; reading resumes after it.</param>
/// <param name="UpdatedAt">When the position last changed (the log time of that entry), ISO 8601 UTC.</param>
/// <param name="LastSequence">Sequence of the newest event when this was read.</param>
/// <param name="FirstRetainedSequence">Sequence of the oldest event still kept.</param>
/// <param name="Lag">Events after the position: <paramref name="LastSequence"/> - <paramref name="Sequence"/>.</param>
/// <param name="MissedEvents">Events after the position that are no longer kept (0 when none): the consumer cannot read them any more, and its reads answer 410 <c>events_trimmed</c> until an operator moves it.</param>
public sealed record ConsumerPosition(string Name, long Sequence, DateTimeOffset UpdatedAt, long LastSequence, long FirstRetainedSequence, long Lag, long MissedEvents);
