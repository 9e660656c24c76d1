using System.Globalization;
using System.Security.Cryptography;
using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

public static class OrderEndpoints
{
    /// <summary>How long a submit token stays valid.</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromMinutes(15);

    public const int MaxPageSize = 1_000;

    public static IEndpointRouteBuilder MapOrders(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/api/orders").WithTags("Orders");

        orders.MapPost("/tokens", async (HttpRequest request, Gateway gateway, TimeProvider time) =>
        {
            var (body, problem) = await JsonBody.ReadAsync<Contract.TokenRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (Validation.CheckId(body!.UserId, "userId") is { } userError) return Problems.Validation(userError);
            // The proposing node supplies the randomness; apply stays deterministic.
            var token = "tok_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var expiresAtMs = (time.GetUtcNow() + TokenLifetime).ToUnixTimeMilliseconds();
            return await gateway.WriteAsync(request, new IssueToken(token, body.UserId!, expiresAtMs), r =>
            {
                var issued = (TokenResult)r;
                return Results.Created((string?)null, new Contract.SubmitToken(issued.Token, issued.UserId, Views.Time(issued.ExpiresAtMs)));
            });
        })
        .WithSummary("Issue an order submit token for a user (shown on the confirm page; places at most one order)")
        .Produces<Contract.SubmitToken>(201).JsonBodyOf<Contract.TokenRequest>().IdempotentWrite().Refuses(409, "token_exists");

        orders.MapPost("/", async (HttpRequest request, Gateway gateway) =>
        {
            var (body, problem) = await JsonBody.ReadAsync<Contract.PlaceOrderRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (Describe(body!) is { } invalid) return Problems.Validation(invalid);
            var command = ToCommand(body!);
            return await gateway.WriteAsync(request, command, r =>
            {
                var order = ((OrderResult)r).Order;
                return Results.Created($"/api/orders/{order.OrderId}", Views.Order(order));
            });
        })
        .WithSummary("Place an order: locks stock for every item or none; consumes the submit token when one is given")
        .Produces<Contract.Order>(201).JsonBodyOf<Contract.PlaceOrderRequest>().IdempotentWrite()
        .Refuses(404, "unknown_sku").Refuses(409, "insufficient_stock", "token_used", "token_invalid");

        orders.MapPost("/{id}/pay", (string id, HttpRequest request, Gateway gateway) =>
            ParseId(id, out var orderId) ?? gateway.WriteAsync(request, new PayOrder(orderId), r => Results.Ok(Views.Order(((OrderResult)r).Order))))
            .WithSummary("Pay a pending order (locked stock becomes sold)")
            .Produces<Contract.Order>().IdempotentWrite().WholeNumberParameter("id", 1).Refuses(404, "order_not_found").Refuses(409, "order_not_pending");

        orders.MapPost("/{id}/cancel", (string id, HttpRequest request, Gateway gateway) =>
            ParseId(id, out var orderId) ?? gateway.WriteAsync(request, new CancelOrder(orderId), r => Results.Ok(Views.Order(((OrderResult)r).Order))))
            .WithSummary("Cancel a pending order (locked stock becomes available)")
            .Produces<Contract.Order>().IdempotentWrite().WholeNumberParameter("id", 1).Refuses(404, "order_not_found").Refuses(409, "order_not_pending");

        orders.MapGet("/{id}", async (string id, HttpRequest request, Gateway gateway) =>
        {
            if (ParseId(id, out var orderId) is { } invalid) return await invalid;
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return gateway.State.Read(s => s.GetOrder(orderId)) is { } order
                ? Results.Ok(Views.Order(order))
                : Problems.Of(404, "order_not_found", $"no order {orderId}");
        })
        .WithSummary("Read one order (linearizable; ?consistency=local reads this node's state)")
        .Produces<Contract.Order>().ReadConsistency().WholeNumberParameter("id", 1).Refuses(404, "order_not_found");

        orders.MapGet("/", async (HttpRequest request, Gateway gateway, string? userId, string? status, long? after, int? limit) =>
        {
            OrderStatus? statusFilter = null;
            if (status is not null)
            {
                if (!OrderStatusNames.TryParse(status, out var parsed)) return Problems.Validation("status is pending, paid, cancelled or expired");
                statusFilter = parsed;
            }
            var pageSize = limit ?? 100;
            if (pageSize is < 1 or > MaxPageSize) return Problems.Validation($"limit is between 1 and {MaxPageSize}");
            if (after is < 0) return Problems.Validation("after is an order id (>= 0)");
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            var page = gateway.State.Read(s => s.ListOrders(userId, statusFilter, after ?? 0, pageSize));
            return Results.Ok(new Contract.OrderPage([.. page.Select(Views.Order)], page.Count == pageSize ? page[^1].OrderId : null));
        })
        .WithSummary("List orders by id, optionally of one user and one status; pass nextAfter as after for the next page")
        .Produces<Contract.OrderPage>().ReadConsistency();
        return app;
    }

    private static Task<IResult>? ParseId(string text, out long orderId)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out orderId) && orderId > 0) return null;
        return Task.FromResult(Problems.Validation("an order id is a positive integer"));
    }

    internal static PlaceOrder ToCommand(Contract.PlaceOrderRequest body)
    {
        var items = body.Items!.Select(i => new OrderItem(i.Sku!, i.Quantity!.Value)).ToArray();
        return new PlaceOrder(body.UserId!, body.Token, items, (body.TtlSeconds ?? MallLimits.DefaultOrderTtlMs / 1000) * 1000);
    }

    /// <summary>What is wrong with the request's shape, or null when nothing is.</summary>
    internal static string? Describe(Contract.PlaceOrderRequest body)
    {
        if (Validation.CheckId(body.UserId, "userId") is { } userError) return userError;
        if (body.Token is not null && Validation.CheckId(body.Token, "token") is { } tokenError) return tokenError;
        if (body.Items is null || body.Items.Length == 0) return "items must list at least one {sku, quantity}";
        if (body.Items.Length > MallLimits.MaxItemsPerOrder) return $"an order has at most {MallLimits.MaxItemsPerOrder} items";
        if (body.Items.Any(i => i is null || i.Sku is null || i.Quantity is null)) return "every item needs a sku and a quantity";
        if (body.TtlSeconds is { } ttl && (ttl < MallLimits.MinOrderTtlMs / 1000 || ttl > MallLimits.MaxOrderTtlMs / 1000))
        {
            return $"ttlSeconds is between {MallLimits.MinOrderTtlMs / 1000} and {MallLimits.MaxOrderTtlMs / 1000}";
        }
        return Validation.CheckItems([.. body.Items.Select(i => new OrderItem(i.Sku!, i.Quantity!.Value))]);
    }
}
