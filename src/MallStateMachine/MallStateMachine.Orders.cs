namespace RaftMall.StateMachine;

// Stock, submit tokens and orders: the shop's side of the state.
public sealed partial class MallStateMachine
{
    private readonly Dictionary<string, StockCounts> _stock = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubmitToken> _tokens = new(StringComparer.Ordinal);
    // Expiry order is total (time, then token/order id), so replicas and restored snapshots expire in the same order.
    private readonly PriorityQueue<SubmitToken, (long ExpiresAtMs, string Token)> _tokenExpiry = new(TokenExpiryOrder.Instance);
    private readonly List<Order> _orders = []; // order id = index + 1: ids are dense and never reused
    private readonly Dictionary<string, List<long>> _orderIdsByUser = new(StringComparer.Ordinal);
    private readonly PriorityQueue<long, (long ExpiresAtMs, long OrderId)> _orderExpiry = new();

    private MallResult ApplySetStock(SetStock c)
    {
        if (Validation.CheckId(c.Sku, "sku") is { } error) return Invalid(error);
        if (c.Available < 0 || c.Available > MallLimits.MaxAvailablePerSku)
        {
            return Invalid($"available must be between 0 and {MallLimits.MaxAvailablePerSku}");
        }
        if (!_stock.TryGetValue(c.Sku, out var counts))
        {
            counts = new StockCounts(c.Sku);
            _stock.Add(c.Sku, counts);
        }
        counts.Available = c.Available;
        _events.Append(LogTimeMs, EventKind.StockSet, 0, null, c.Sku, c.Available);
        return new StockResult(counts.ToLevel());
    }

    private MallResult ApplyIssueToken(IssueToken c)
    {
        if (Validation.CheckId(c.Token, "token") is { } tokenError) return Invalid(tokenError);
        if (Validation.CheckId(c.UserId, "userId") is { } userError) return Invalid(userError);
        if (c.ExpiresAtMs <= LogTimeMs || c.ExpiresAtMs - LogTimeMs > MallLimits.MaxTokenTtlMs)
        {
            return Invalid("token expiry must be in the future and within 24 hours");
        }
        if (_tokens.ContainsKey(c.Token)) return new Rejected(ErrorCode.TokenExists, "this token value was issued before");
        var token = new SubmitToken(c.Token, c.UserId, c.ExpiresAtMs);
        _tokens.Add(token.Token, token);
        _tokenExpiry.Enqueue(token, (token.ExpiresAtMs, token.Token));
        return new TokenResult(token.Token, token.UserId, token.ExpiresAtMs);
    }

    private MallResult ApplyPlaceOrder(PlaceOrder c)
    {
        if (Validation.CheckId(c.UserId, "userId") is { } userError) return Invalid(userError);
        if (Validation.CheckItems(c.Items) is { } itemsError) return Invalid(itemsError);
        if (c.TtlMs < MallLimits.MinOrderTtlMs || c.TtlMs > MallLimits.MaxOrderTtlMs)
        {
            return Invalid($"ttl must be between {MallLimits.MinOrderTtlMs / 1000} s and {MallLimits.MaxOrderTtlMs / 1000} s");
        }

        // Check everything first: an order locks all of its items or none.
        SubmitToken? token = null;
        if (c.Token is not null)
        {
            if (!_tokens.TryGetValue(c.Token, out token) || !string.Equals(token.UserId, c.UserId, StringComparison.Ordinal)
                || token.ExpiresAtMs <= LogTimeMs)
            {
                return new Rejected(ErrorCode.TokenInvalid, "the submit token is unknown, expired or belongs to another user");
            }
            if (token.IsUsed) return new Rejected(ErrorCode.TokenUsed, $"the submit token already placed order {token.UsedByOrderId}");
        }
        foreach (var item in c.Items)
        {
            if (!_stock.TryGetValue(item.Sku, out var stock)) return new Rejected(ErrorCode.UnknownSku, $"unknown sku {item.Sku}");
            if (stock.Available < item.Quantity)
            {
                return new Rejected(ErrorCode.InsufficientStock, $"sku {item.Sku}: {stock.Available} available, {item.Quantity} requested");
            }
        }

        if (token is not null) token.UsedByOrderId = _orders.Count + 1L;
        return new OrderResult(PlaceChecked(c.UserId, c.Items, LogTimeMs + c.TtlMs));
    }

    /// <summary>Places a pending order whose items were checked (skus exist, enough available): locks their stock.</summary>
    private Order PlaceChecked(string userId, OrderItem[] requested, long expiresAtMs)
    {
        var orderId = _orders.Count + 1L;
        var items = new OrderItem[requested.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var stock = _stock[requested[i].Sku];
            stock.Available -= requested[i].Quantity;
            stock.Locked += requested[i].Quantity;
            Require(stock.Available >= 0, "available stock is never negative");
            items[i] = new OrderItem(stock.Sku, requested[i].Quantity); // share the sku string held by the stock table
        }
        var order = new Order(orderId, userId, OrderStatus.Pending, items, LogTimeMs, expiresAtMs, LogTimeMs);
        _orders.Add(order);
        IndexOrder(order);
        _events.Append(LogTimeMs, EventKind.OrderPlaced, orderId, null, detail: userId);
        foreach (var item in items) _events.Append(LogTimeMs, EventKind.StockLocked, orderId, null, item.Sku, item.Quantity);
        return order;
    }

    private MallResult ApplyPayOrder(PayOrder c)
    {
        if (FindOrder(c.OrderId) is not { } order) return OrderNotFound(c.OrderId);
        if (_heldOrders.Contains(c.OrderId)) return HeldByTransaction(order);
        if (order.Status == OrderStatus.Pending && order.ExpiresAtMs <= LogTimeMs)
        {
            // Its deadline passed before the tick that would expire it: expire it now, as the tick would.
            order = Close(order, OrderStatus.Expired);
        }
        if (order.Status != OrderStatus.Pending) return NotPending(order);
        return new OrderResult(Close(order, OrderStatus.Paid));
    }

    private MallResult ApplyCancelOrder(CancelOrder c)
    {
        if (FindOrder(c.OrderId) is not { } order) return OrderNotFound(c.OrderId);
        if (_heldOrders.Contains(c.OrderId)) return HeldByTransaction(order);
        if (order.Status != OrderStatus.Pending) return NotPending(order);
        return new OrderResult(Close(order, OrderStatus.Cancelled));
    }

    private ExpireResult ApplyExpireDue()
    {
        // Transactions first: an order branch's order expires at its transaction's deadline, and the abort cancels it.
        var aborted = AbortOverdueTransactions();
        var expired = 0;
        while (_orderExpiry.TryPeek(out var orderId, out var due) && due.ExpiresAtMs <= LogTimeMs)
        {
            _orderExpiry.Dequeue();
            var order = _orders[(int)(orderId - 1)];
            if (order.Status != OrderStatus.Pending) continue; // paid or cancelled since: nothing to release
            Close(order, OrderStatus.Expired);
            expired++;
        }
        var forgotten = 0;
        while (_tokenExpiry.TryPeek(out var token, out var tokenDue) && tokenDue.ExpiresAtMs <= LogTimeMs)
        {
            _tokenExpiry.Dequeue();
            _tokens.Remove(token.Token);
            forgotten++;
        }
        return new ExpireResult(expired, aborted, forgotten);
    }

    /// <summary>Moves a pending order to a final status and its locked stock to sold (paid) or available (otherwise).</summary>
    private Order Close(Order order, OrderStatus status)
    {
        Require(order.Status == OrderStatus.Pending, "only a pending order is closed");
        var kind = status switch
        {
            OrderStatus.Paid => EventKind.OrderPaid,
            OrderStatus.Cancelled => EventKind.OrderCancelled,
            OrderStatus.Expired => EventKind.OrderExpired,
            _ => throw new InvariantViolationException("an order closes as paid, cancelled or expired"),
        };
        _events.Append(LogTimeMs, kind, order.OrderId, null, detail: order.UserId);
        foreach (var item in order.Items)
        {
            var stock = _stock[item.Sku];
            stock.Locked -= item.Quantity;
            Require(stock.Locked >= 0, "locked stock is never negative");
            if (status == OrderStatus.Paid)
            {
                stock.Sold += item.Quantity;
                _events.Append(LogTimeMs, EventKind.StockSold, order.OrderId, null, item.Sku, item.Quantity);
            }
            else
            {
                stock.Available += item.Quantity;
                _events.Append(LogTimeMs, EventKind.StockReleased, order.OrderId, null, item.Sku, item.Quantity);
            }
        }
        var closed = order with { Status = status, UpdatedAtMs = LogTimeMs };
        _orders[(int)(order.OrderId - 1)] = closed;
        return closed;
    }

    private void IndexOrder(Order order)
    {
        if (!_orderIdsByUser.TryGetValue(order.UserId, out var ids))
        {
            ids = [];
            _orderIdsByUser.Add(order.UserId, ids);
        }
        ids.Add(order.OrderId);
        if (order.Status == OrderStatus.Pending) _orderExpiry.Enqueue(order.OrderId, (order.ExpiresAtMs, order.OrderId));
    }

    private Order? FindOrder(long orderId) => orderId >= 1 && orderId <= _orders.Count ? _orders[(int)(orderId - 1)] : null;

    private static Rejected OrderNotFound(long orderId) => new(ErrorCode.OrderNotFound, $"no order {orderId}");

    private static Rejected HeldByTransaction(Order order) =>
        new(ErrorCode.OrderNotPending, $"order {order.OrderId} belongs to a transaction that is not decided yet; the transaction pays or cancels it");

    private static Rejected NotPending(Order order) =>
        new(ErrorCode.OrderNotPending, $"order {order.OrderId} is {OrderStatusNames.Name(order.Status)}, not pending");

    private sealed class TokenExpiryOrder : IComparer<(long ExpiresAtMs, string Token)>
    {
        public static readonly TokenExpiryOrder Instance = new();

        public int Compare((long ExpiresAtMs, string Token) x, (long ExpiresAtMs, string Token) y)
        {
            var byTime = x.ExpiresAtMs.CompareTo(y.ExpiresAtMs);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Token, y.Token);
        }
    }
}
