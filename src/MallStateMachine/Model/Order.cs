namespace RaftMall.StateMachine;

public enum OrderStatus : byte
{
    Pending = 0,
    Paid = 1,
    Cancelled = 2,
    Expired = 3,
}

/// <summary>One line of an order.</summary>
public readonly record struct OrderItem(string Sku, int Quantity);

/// <summary>An order as it stood at one applied index. Immutable: a change replaces the whole record.</summary>
public sealed record Order(
    long OrderId,
    string UserId,
    OrderStatus Status,
    OrderItem[] Items,
    long CreatedAtMs,
    long ExpiresAtMs,
    long UpdatedAtMs);

/// <summary>An order submit token; consumed atomically by the order it places.</summary>
internal sealed class SubmitToken(string token, string userId, long expiresAtMs)
{
    public string Token { get; } = token;
    public string UserId { get; } = userId;
    public long ExpiresAtMs { get; } = expiresAtMs;
    public long UsedByOrderId { get; set; }
    public bool IsUsed => UsedByOrderId != 0;
}

public static class OrderStatusNames
{
    public static string Name(OrderStatus status) => status switch
    {
        OrderStatus.Pending => "pending",
        OrderStatus.Paid => "paid",
        OrderStatus.Cancelled => "cancelled",
        OrderStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string? text, out OrderStatus status)
    {
        switch (text)
        {
            case "pending": status = OrderStatus.Pending; return true;
            case "paid": status = OrderStatus.Paid; return true;
            case "cancelled": status = OrderStatus.Cancelled; return true;
            case "expired": status = OrderStatus.Expired; return true;
            default: status = default; return false;
        }
    }
}
