namespace RaftMall.StateMachine.Benchmarks;

/// <summary>Command streams and states shared by the benchmarks and the memory report.</summary>
public static class Workloads
{
    public const int Skus = 100;

    public static MallStateMachine StockedState()
    {
        var state = new MallStateMachine();
        for (var s = 0; s < Skus; s++) state.Apply(new SetStock($"sku-{s}", MallLimits.MaxAvailablePerSku) { TimeMs = 1 });
        return state;
    }

    /// <summary>The place+pay mix: every order is placed (one or two items) and every other one is paid.</summary>
    public static MallCommand[] PlacePayMix(int commands, int firstOrderId = 1)
    {
        var list = new MallCommand[commands];
        var nextOrderId = (long)firstOrderId;
        var placed = 0;
        for (var i = 0; i < commands; i++)
        {
            var time = 1_000 + i;
            if (i % 3 == 2)
            {
                list[i] = new PayOrder(nextOrderId - 1) { TimeMs = time };
                continue;
            }
            var items = placed % 2 == 0
                ? new[] { new OrderItem($"sku-{placed % Skus}", 1) }
                : [new OrderItem($"sku-{placed % Skus}", 1), new OrderItem($"sku-{(placed + 1) % Skus}", 2)];
            list[i] = new PlaceOrder($"user-{placed % 10_000}", null, items, 900_000) { TimeMs = time };
            placed++;
            nextOrderId++;
        }
        return list;
    }

    /// <summary>A state holding <paramref name="orders"/> orders (a third paid, a third cancelled, a third pending) and a submit token for half.</summary>
    public static MallStateMachine StateWithOrders(int orders)
    {
        var state = StockedState();
        for (var i = 0; i < orders; i++)
        {
            var time = 1_000L + i;
            var user = $"user-{i % 100_000}";
            string? token = null;
            if (i % 2 == 0)
            {
                token = $"tok-{i:x8}";
                state.Apply(new IssueToken(token, user, time + 3_600_000) { TimeMs = time });
            }
            state.Apply(new PlaceOrder(user, token, [new OrderItem($"sku-{i % Skus}", 1 + (i % 3))], 3_600_000) { TimeMs = time });
            if (i % 3 == 1) state.Apply(new PayOrder(i + 1) { TimeMs = time });
            if (i % 3 == 2) state.Apply(new CancelOrder(i + 1) { TimeMs = time });
        }
        return state;
    }
}
