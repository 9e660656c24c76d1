using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>
/// The state machine's records as the API's answers (the contract's types, RaftMall.Contract). Times are Unix
/// milliseconds in the state and ISO 8601 UTC on the wire.
/// </summary>
public static class Views
{
    public static DateTimeOffset Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);

    public static Contract.StockLevel Stock(StockLevel s) => new(s.Sku, s.Available, s.Locked, s.Sold);

    public static Contract.Order Order(Order o) => new(
        o.OrderId, o.UserId, OrderStatusNames.Name(o.Status), [.. o.Items.Select(i => new Contract.OrderLine(i.Sku, i.Quantity))],
        Time(o.CreatedAtMs), Time(o.ExpiresAtMs), Time(o.UpdatedAtMs));

    public static Contract.KvEntry Kv(KvEntry e) => new(e.Key, e.Value, e.Revision);

    public static Contract.MallEvent Event(MallEvent e) => e.Kind == EventKind.Message
        ? new(e.Id, e.Sequence, EventKindNames.Name(e.Kind), Time(e.AtMs), e.OrderId == 0 ? null : e.OrderId, null, null, null, null)
        {
            Topic = e.Subject,
            Key = e.Detail,
            Payload = Json(e.Payload!),
        }
        : new(e.Id, e.Sequence, EventKindNames.Name(e.Kind), Time(e.AtMs), e.OrderId == 0 ? null : e.OrderId, e.Subject, e.Sku,
            e.Sku is null ? null : e.Quantity, e.Detail);

    public static Contract.PublishedMessage Message(MallEvent e) => new(e.Id, e.Sequence, e.Subject!, e.Detail, Time(e.AtMs));

    /// <summary>A consumer's position with its lag and the events it can no longer read, against the outbox as it stands.</summary>
    public static Contract.ConsumerPosition Consumer(ConsumerPosition c, long lastSequence, long firstRetainedSequence) => new(
        c.Name, c.Sequence, Time(c.UpdatedAtMs), lastSequence, firstRetainedSequence, lastSequence - c.Sequence,
        Math.Max(0, firstRetainedSequence - 1 - c.Sequence));

    /// <summary>A subscription's state by name: suspended (the outbox dropped an event it had not acknowledged), stuck or active.</summary>
    public static string SubscriptionState(Subscription s) => s.Suspended ? "suspended" : s.Stuck ? "stuck" : "active";

    /// <summary>A subscription with its lag against the outbox as it stands.</summary>
    public static Contract.Subscription Subscription(Subscription s, long lastSequence, long firstRetainedSequence) => new(
        s.Name, s.Spec.Endpoint, s.Spec.Topics, s.Spec.EventTypes, s.Spec.TimeoutMs, s.Spec.BatchSize, s.Spec.MaxAttempts, SubscriptionState(s),
        s.Position, lastSequence, lastSequence - s.Position, s.Attempts, s.LastError.Length == 0 ? null : s.LastError,
        s.Suspended ? s.SuspendedAt : null, firstRetainedSequence, Time(s.UpdatedAtMs));

    public static Contract.TransactionBranchView Branch(GlobalTransaction txn, TransactionBranch b) => new(
        b.BranchId, TransactionNames.Kind(b.Spec.Kind), TransactionNames.BranchState(txn, b), b.Attempts,
        b.LastError.Length == 0 ? null : b.LastError, b.Stuck, b.OrderId == 0 ? null : b.OrderId);

    public static Contract.GlobalTransaction Transaction(GlobalTransaction t) => new(
        t.Gid, TransactionNames.Mode(t.Mode), TransactionNames.Status(t.Status), t.IsDecided ? MallStateMachine.DecisionName(t.Decision) : null,
        t.IsDecided ? t.DecisionReason : null, Time(t.BeganAtMs), Time(t.DeadlineMs),
        t.IsDecided ? Time(t.DecidedAtMs) : null, [.. t.Branches.Select(b => Branch(t, b))]);

    private static System.Text.Json.JsonElement Json(string text)
    {
        using var document = System.Text.Json.JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
