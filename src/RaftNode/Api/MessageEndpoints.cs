using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>Application messages: publish one, or place an order and publish its message in one log entry.</summary>
public static class MessageEndpoints
{
    public static IEndpointRouteBuilder MapMessages(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/messages", async (HttpRequest request, Gateway gateway) =>
        {
            var (body, problem) = await JsonBody.ReadAsync<Contract.MessageRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (Describe(body!, out var payload) is { } invalid) return Problems.Validation(invalid);
            return await gateway.WriteAsync(request, new PublishMessage(body!.Topic!, body.Key, payload), r =>
                Results.Created((string?)null, Views.Message(((MessageResult)r).Message)));
        })
        .WithTags("Messages")
        .WithSummary("Commit an application message (topic, key, JSON payload): a message event that pull consumers read in order")
        .Produces<Contract.PublishedMessage>(201).JsonBodyOf<Contract.MessageRequest>().IdempotentWrite();

        app.MapPost("/api/orders/with-message", async (HttpRequest request, Gateway gateway) =>
        {
            var (body, problem) = await JsonBody.ReadAsync<Contract.PlaceOrderWithMessageRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            var order = new Contract.PlaceOrderRequest(body!.UserId, body.Token, body.Items, body.TtlSeconds);
            if (OrderEndpoints.Describe(order) is { } invalidOrder) return Problems.Validation(invalidOrder);
            if (body.Message is null) return Problems.Validation("message is required: {topic, key, payload}");
            if (Describe(body.Message, out var payload) is { } invalidMessage) return Problems.Validation("message: " + invalidMessage);
            var placed = OrderEndpoints.ToCommand(order);
            var command = new PlaceOrderWithMessage(placed.UserId, placed.Token, placed.Items, placed.TtlMs, body.Message.Topic!, body.Message.Key, payload);
            return await gateway.WriteAsync(request, command, r =>
            {
                var result = (OrderWithMessageResult)r;
                return Results.Created($"/api/orders/{result.Order.OrderId}", new Contract.OrderWithMessage(Views.Order(result.Order), Views.Message(result.Message)));
            });
        })
        .WithTags("Orders")
        .WithSummary("Place an order and publish its message in one log entry: both or neither (the local message table)")
        .Produces<Contract.OrderWithMessage>(201).JsonBodyOf<Contract.PlaceOrderWithMessageRequest>().IdempotentWrite()
        .Refuses(404, "unknown_sku").Refuses(409, "insufficient_stock", "token_used", "token_invalid");
        return app;
    }

    /// <summary>What is wrong with a message, or null; <paramref name="payload"/> is the payload's raw JSON text.</summary>
    private static string? Describe(Contract.MessageRequest message, out string payload)
    {
        // A JSON null payload arrives as no value at all: it is refused as missing, like an absent one.
        payload = message.Payload is { } json ? json.GetRawText() : "";
        return Validation.CheckMessage(message.Topic, message.Key, message.Payload is null ? null : payload);
    }
}
