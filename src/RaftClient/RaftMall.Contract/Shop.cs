using System.Text.Json.Serialization;

namespace RaftMall.Contract;

// Request and answer bodies of stock, submit tokens, orders, key-value and events (docs/api.md). Times are ISO 8601
// UTC. Request fields are nullable: the node says which one is missing instead of failing to read the body.

public sealed record StockRequest(long? Available);

public sealed record TokenRequest(string? UserId);

public sealed record OrderItemRequest(string? Sku, int? Quantity);

public sealed record PlaceOrderRequest(string? UserId, string? Token, OrderItemRequest[]? Items, long? TtlSeconds);

public sealed record KvPutRequest(string? Value);

public sealed record StockLevel(string Sku, long Available, long Locked, long Sold)
{
    /// <summary>Every unit of the sku: available, locked by pending orders, sold.</summary>
    [JsonIgnore]
    public long Total => Available + Locked + Sold;
}

public sealed record SubmitToken(string Token, string UserId, DateTimeOffset ExpiresAt);

public sealed record OrderLine(string Sku, int Quantity)
{
    public OrderItemRequest ToRequest() => new(Sku, Quantity);
}

public sealed record Order(long OrderId, string UserId, string Status, OrderLine[] Items, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset UpdatedAt);

public sealed record OrderPage(Order[] Orders, long? NextAfter);

public sealed record KvEntry(string Key, string Value, long Revision);

public sealed record MallEvent(string Id, long Sequence, string Type, DateTimeOffset At, long? OrderId, string? Subject, string? Sku, long? Quantity, string? Detail);

public sealed record EventPage(MallEvent[] Events, long LastSequence, long FirstRetainedSequence);
