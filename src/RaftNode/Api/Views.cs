using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

// Request and response bodies of the HTTP API (api.md). Times are ISO 8601 UTC.

public sealed record StockRequest(long? Available);

public sealed record TokenRequest(string? UserId);

public sealed record OrderItemRequest(string? Sku, int? Quantity);

public sealed record PlaceOrderRequest(string? UserId, string? Token, List<OrderItemRequest>? Items, long? TtlSeconds);

public sealed record KvPutRequest(string? Value);

public sealed record StockView(string Sku, long Available, long Locked, long Sold)
{
    public static StockView Of(StockLevel s) => new(s.Sku, s.Available, s.Locked, s.Sold);
}

public sealed record TokenView(string Token, string UserId, DateTimeOffset ExpiresAt);

public sealed record OrderItemView(string Sku, int Quantity);

public sealed record OrderView(long OrderId, string UserId, string Status, OrderItemView[] Items, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset UpdatedAt)
{
    public static OrderView Of(Order o) => new(
        o.OrderId, o.UserId, OrderStatusNames.Name(o.Status), [.. o.Items.Select(i => new OrderItemView(i.Sku, i.Quantity))],
        Time(o.CreatedAtMs), Time(o.ExpiresAtMs), Time(o.UpdatedAtMs));

    internal static DateTimeOffset Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
}

public sealed record OrderPage(OrderView[] Orders, long? NextAfter);

public sealed record KvView(string Key, string Value, long Revision)
{
    public static KvView Of(KvEntry e) => new(e.Key, e.Value, e.Revision);
}

public sealed record EventView(string Id, long Sequence, string Type, DateTimeOffset At, long? OrderId, string? Subject, string? Sku, long? Quantity, string? Detail)
{
    public static EventView Of(MallEvent e) => new(
        e.Id, e.Sequence, EventKindNames.Name(e.Kind), OrderView.Time(e.AtMs), e.OrderId == 0 ? null : e.OrderId, e.Subject, e.Sku,
        e.Sku is null ? null : e.Quantity, e.Detail);
}

public sealed record EventPage(EventView[] Events, long LastSequence, long FirstRetainedSequence);

public sealed record MemberView(string NodeId, string Address, string? Role);

public sealed record ClusterStatusView(
    string NodeId, string Role, long Term, string? LeaderId, long CommitIndex, long AppliedIndex, long SnapshotIndex,
    MemberView[] Members, NodeStatsView Stats, int ProcessId);

public sealed record NodeStatsView(int Orders, int Skus, int Keys, long LastEventSequence, long SnapshotsTaken, long SnapshotsRestored, long FollowerFlushes, bool DurableFollowerAppends);

public sealed record StateHashView(string Hash, long AppliedIndex);
