using System.Text.Json.Serialization;

namespace RaftMall.Contract;

// Request and answer bodies of stock, submit tokens, orders, key-value and events (docs/api.md). Times are ISO 8601
// UTC. Request fields are nullable: the node says which one is missing instead of failing to read the body.

/// <summary>The body of <c>PUT /api/stock/{sku}</c>: sets the sku's available count (locked and sold stay as they are).</summary>
/// <param name="Available">The new available count, 0..1,000,000,000.</param>
public sealed record StockRequest(long? Available);

/// <summary>The body of <c>POST /api/orders/tokens</c>: asks for a submit token for one user's next order.</summary>
/// <param name="UserId">The user the token is for (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
public sealed record TokenRequest(string? UserId);

/// <summary>One line of an order to place or of an order branch.</summary>
/// <param name="Sku">The sku (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>); at most once per order.</param>
/// <param name="Quantity">Units of the sku, 1..10,000.</param>
public sealed record OrderItemRequest(string? Sku, int? Quantity);

/// <summary>The body of <c>POST /api/orders</c>: places a pending order that locks stock for every line or for none.</summary>
/// <param name="UserId">The user placing the order (1..128 characters of <c>A-Z a-z 0-9 - _ . : @ ~</c>).</param>
/// <param name="Token">A submit token issued to the same user, consumed by this order (409 <c>token_used</c> / <c>token_invalid</c>); null places the order without double-submit protection.</param>
/// <param name="Items">The lines: 1..50, each sku at most once.</param>
/// <param name="TtlSeconds">Seconds until the pending order expires and releases its stock, 1..604,800 (900 when null).</param>
public sealed record PlaceOrderRequest(string? UserId, string? Token, OrderItemRequest[]? Items, long? TtlSeconds);

/// <summary>The body of <c>PUT /api/kv/{key}</c>.</summary>
/// <param name="Value">The value to store, at most 65,536 characters.</param>
public sealed record KvPutRequest(string? Value);

/// <summary>The stock of one sku: the answer of the stock endpoints.</summary>
/// <param name="Sku">The sku.</param>
/// <param name="Available">Units that can be ordered, 0..1,000,000,000.</param>
/// <param name="Locked">Units held by pending orders and undecided transaction branches.</param>
/// <param name="Sold">Units of paid orders and committed branches.</param>
public sealed record StockLevel(string Sku, long Available, long Locked, long Sold)
{
    /// <summary>Every unit of the sku: available, locked by pending orders, sold.</summary>
    [JsonIgnore]
    public long Total => Available + Locked + Sold;
}

/// <summary>A submit token (the answer of <c>POST /api/orders/tokens</c>): pass it with one order of the same user to make a double submit fail.</summary>
/// <param name="Token">The token, used once.</param>
/// <param name="UserId">The user the token was issued to.</param>
/// <param name="ExpiresAt">When the token stops being accepted (15 minutes after it was issued), ISO 8601 UTC.</param>
public sealed record SubmitToken(string Token, string UserId, DateTimeOffset ExpiresAt);

/// <summary>One line of an order as the cluster stores it.</summary>
/// <param name="Sku">The sku.</param>
/// <param name="Quantity">Units of the sku, 1..10,000.</param>
public sealed record OrderLine(string Sku, int Quantity)
{
    /// <summary>The same line as a request body line, for placing an order or an order branch.</summary>
    public OrderItemRequest ToRequest() => new(Sku, Quantity);
}

/// <summary>An order as it stood at one applied index.</summary>
/// <param name="OrderId">The order's id: a positive integer assigned in log order.</param>
/// <param name="UserId">The user who placed it.</param>
/// <param name="Status">pending, paid, cancelled or expired.</param>
/// <param name="Items">The order's lines.</param>
/// <param name="CreatedAt">When the order was placed (the log time of its entry), ISO 8601 UTC.</param>
/// <param name="ExpiresAt">When a still pending order expires and releases its stock, ISO 8601 UTC.</param>
/// <param name="UpdatedAt">When the order last changed status (<paramref name="CreatedAt"/> until then), ISO 8601 UTC.</param>
public sealed record Order(long OrderId, string UserId, string Status, OrderLine[] Items, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset UpdatedAt);

/// <summary>One page of <c>GET /api/orders</c>, by order id.</summary>
/// <param name="Orders">The orders of the page, by ascending id.</param>
/// <param name="NextAfter">The <c>after</c> of the next page (the last id of this one); null when this page is not full, so it is the last.</param>
public sealed record OrderPage(Order[] Orders, long? NextAfter);

/// <summary>A key and its value: the answer of <c>PUT</c> and <c>GET /api/kv/{key}</c>.</summary>
/// <param name="Key">The key (1..256 characters, no control characters; may contain <c>/</c>).</param>
/// <param name="Value">The value, at most 65,536 characters.</param>
/// <param name="Revision">The store-wide revision of the key's last put (every put or delete of any key increments it): what <c>If-Match</c> compares.</param>
public sealed record KvEntry(string Key, string Value, long Revision);

/// <summary>One domain event of the outbox, committed in the same log entry as the change that caused it.</summary>
/// <param name="Id">Unique for the life of the cluster (<c>evt-</c> and the sequence).</param>
/// <param name="Sequence">Gap-free from 1, in log order.</param>
/// <param name="Type">What happened: <c>message</c> (an application message: see <see cref="Topic"/>, <see cref="Key"/>, <see cref="Payload"/>), stockSet, orderPlaced, stockLocked, orderPaid, stockSold, orderCancelled, orderExpired, stockReleased, or a transaction event (transactionBegun, branchRegistered, branchVoted, transactionDecided, branchAcknowledged, branchFailed, branchStuck, transactionRetried, transactionFinished).</param>
/// <param name="At">When it happened (the log time of its entry), ISO 8601 UTC.</param>
/// <param name="OrderId">For order events and the stock movements of an order: the order; null otherwise.</param>
/// <param name="Subject">For transaction events and the stock movements of a stock branch: the transaction's gid; null otherwise.</param>
/// <param name="Sku">For stock events: the sku; null otherwise.</param>
/// <param name="Quantity">For stock events: the units moved, or the new available count for stockSet; null otherwise.</param>
/// <param name="Detail">Free text by type: the user id of an order event, a branch id, <c>branch:yes|no</c> of a vote, <c>commit|abort: reason</c> of a decision; null when none.</param>
public sealed record MallEvent(string Id, long Sequence, string Type, DateTimeOffset At, long? OrderId, string? Subject, string? Sku, long? Quantity, string? Detail)
{
    /// <summary>For a <c>message</c> event: its topic; null for other events.</summary>
    public string? Topic { get; init; }

    /// <summary>For a <c>message</c> event: its key (null when it has none); null for other events.</summary>
    public string? Key { get; init; }

    /// <summary>For a <c>message</c> event: the JSON payload as it was published; null for other events.</summary>
    public System.Text.Json.JsonElement? Payload { get; init; }
}

/// <summary>One page of <c>GET /api/events</c>.</summary>
/// <param name="Events">The events after the requested sequence, oldest first (empty when the wait ran out with nothing new).</param>
/// <param name="LastSequence">Sequence of the newest event the node has (0 when there is none).</param>
/// <param name="FirstRetainedSequence">Sequence of the oldest event still kept (the newest 100,000 are); a reader whose <c>after</c> is below this minus one has missed events.</param>
public sealed record EventPage(MallEvent[] Events, long LastSequence, long FirstRetainedSequence);
