namespace RaftMall.StateMachine;

public enum EventKind : byte
{
    StockSet = 1,
    OrderPlaced = 2,
    StockLocked = 3,
    OrderPaid = 4,
    StockSold = 5,
    OrderCancelled = 6,
    OrderExpired = 7,
    StockReleased = 8,
    TransactionBegun = 9,
    BranchRegistered = 10,
    BranchVoted = 11,
    TransactionDecided = 12,
    BranchAcknowledged = 13,
    TransactionFinished = 14,
    BranchFailed = 15,
    BranchStuck = 16,
    TransactionRetried = 17,
    Message = 18,
}

/// <summary>
/// An outbox event, committed in the same log entry as the change that caused it.
/// <see cref="Sequence"/> is gap-free from 1; <see cref="Id"/> is unique for the life of the cluster.
/// </summary>
/// <param name="OrderId">For order and stock-movement events: the order (0 otherwise).</param>
/// <param name="Subject">For other events: the sku or transaction id the event is about.</param>
/// <param name="Sku">For stock events: the sku.</param>
/// <param name="Quantity">For stock events: the quantity moved; for stockSet, the new available count.</param>
/// <param name="Detail">Free text: a user id, a branch id, a decision, a reason.</param>
/// <param name="Payload">For message events only: the application's JSON. A message event's <paramref name="Subject"/> is its
/// topic, its <paramref name="Detail"/> its key (null when none), its <paramref name="OrderId"/> the order placed with it (0 when none).</param>
public readonly record struct MallEvent(long Sequence, long AtMs, EventKind Kind, long OrderId, string? Subject, string? Sku, long Quantity, string? Detail,
    string? Payload = null)
{
    public string Id => "evt-" + Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public static class EventKindNames
{
    public static string Name(EventKind kind) => kind switch
    {
        EventKind.StockSet => "stockSet",
        EventKind.OrderPlaced => "orderPlaced",
        EventKind.StockLocked => "stockLocked",
        EventKind.OrderPaid => "orderPaid",
        EventKind.StockSold => "stockSold",
        EventKind.OrderCancelled => "orderCancelled",
        EventKind.OrderExpired => "orderExpired",
        EventKind.StockReleased => "stockReleased",
        EventKind.TransactionBegun => "transactionBegun",
        EventKind.BranchRegistered => "branchRegistered",
        EventKind.BranchVoted => "branchVoted",
        EventKind.TransactionDecided => "transactionDecided",
        EventKind.BranchAcknowledged => "branchAcknowledged",
        EventKind.TransactionFinished => "transactionFinished",
        EventKind.BranchFailed => "branchFailed",
        EventKind.BranchStuck => "branchStuck",
        EventKind.TransactionRetried => "transactionRetried",
        EventKind.Message => "message",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Every event type's name, in kind order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Enum.GetValues<EventKind>().Select(Name)];
}
