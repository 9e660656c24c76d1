namespace RaftMall.StateMachine;

// Application messages (the local message table) and the committed positions of pull consumers.
public sealed partial class MallStateMachine
{
    private readonly Dictionary<string, ConsumerPosition> _consumers = new(StringComparer.Ordinal);

    private MallResult ApplyPublish(PublishMessage c)
    {
        if (Validation.CheckMessage(c.Topic, c.Key, c.Payload) is { } error) return Invalid(error);
        return new MessageResult(AppendMessage(0, c.Topic, c.Key, c.Payload));
    }

    private MallResult ApplyPlaceOrderWithMessage(PlaceOrderWithMessage c)
    {
        // The message is checked first, so a refused message places no order; a refused order publishes nothing.
        if (Validation.CheckMessage(c.Topic, c.Key, c.Payload) is { } error) return Invalid(error);
        var placed = ApplyPlaceOrder(c.ToPlaceOrder());
        if (placed is not OrderResult { Order: var order }) return placed;
        return new OrderWithMessageResult(order, AppendMessage(order.OrderId, c.Topic, c.Key, c.Payload));
    }

    private MallEvent AppendMessage(long orderId, string topic, string? key, string payload) =>
        _events.Append(LogTimeMs, EventKind.Message, orderId, topic, detail: key, payload: payload);

    private MallResult ApplyAckConsumer(AckConsumer c)
    {
        if (CheckPosition(c.Consumer, c.Sequence) is { } invalid) return invalid;
        if (_consumers.TryGetValue(c.Consumer, out var current) && current.Sequence >= c.Sequence)
        {
            return new ConsumerResult(current); // a late or repeated ack: the position never goes back
        }
        return SetPosition(c.Consumer, c.Sequence);
    }

    private MallResult ApplyMoveConsumer(MoveConsumer c) => CheckPosition(c.Consumer, c.Sequence) ?? (MallResult)SetPosition(c.Consumer, c.Sequence);

    private MallResult ApplyDeleteConsumer(DeleteConsumer c)
    {
        if (Validation.CheckId(c.Consumer, "consumer") is { } error) return Invalid(error);
        if (!_consumers.Remove(c.Consumer, out var last)) return ConsumerNotFound(c.Consumer);
        return new ConsumerResult(last);
    }

    private Rejected? CheckPosition(string consumer, long sequence)
    {
        if (Validation.CheckId(consumer, "consumer") is { } error) return Invalid(error);
        if (sequence < 0 || sequence > LastEventSequence)
        {
            return Invalid($"sequence is between 0 and the newest event's, {LastEventSequence}: a consumer cannot acknowledge events that do not exist");
        }
        if (!_consumers.ContainsKey(consumer) && _consumers.Count >= MallLimits.MaxConsumers)
        {
            return new Rejected(ErrorCode.TooManyConsumers, $"there are {MallLimits.MaxConsumers} consumers, the most there may be; delete one first");
        }
        return null;
    }

    private ConsumerResult SetPosition(string consumer, long sequence)
    {
        var position = new ConsumerPosition(consumer, sequence, LogTimeMs);
        _consumers[consumer] = position;
        return new ConsumerResult(position);
    }

    private static Rejected ConsumerNotFound(string consumer) => new(ErrorCode.ConsumerNotFound, $"no consumer {consumer}");

    /// <summary>A consumer's committed position, or null when it never acknowledged anything (or was deleted).</summary>
    public ConsumerPosition? GetConsumer(string name) => _consumers.GetValueOrDefault(name);

    /// <summary>Every consumer's position, by name.</summary>
    public List<ConsumerPosition> ListConsumers() => [.. SortedKeys(_consumers).Select(name => _consumers[name])];
}
