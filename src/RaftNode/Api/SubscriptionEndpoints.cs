using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>
/// Push subscriptions (admin): the leader POSTs matching events to the subscription's endpoint in order, at least
/// once, in batches (<see cref="Drivers.SubscriptionDriver"/>). Writes go through the log like every other write (a
/// follower forwards them to the leader); reads are linearizable unless asked otherwise.
/// </summary>
public static class SubscriptionEndpoints
{
    public const int DefaultTimeoutMs = 5_000;
    public const int DefaultBatchSize = 100;
    public const int DefaultMaxAttempts = 10;

    public static IEndpointRouteBuilder MapSubscriptions(this IEndpointRouteBuilder app)
    {
        var subscriptions = app.MapGroup("/api/subscriptions").WithTags("Subscriptions");

        subscriptions.MapPost("/", async (HttpRequest request, Gateway gateway) =>
        {
            var (body, problem) = await JsonBody.ReadAsync<Contract.SubscriptionRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            var spec = new SubscriptionSpec(body!.Name ?? "", body.Endpoint ?? "", body.Topics ?? [], body.EventTypes ?? [],
                body.TimeoutMs ?? DefaultTimeoutMs, body.BatchSize ?? DefaultBatchSize, body.MaxAttempts ?? DefaultMaxAttempts);
            if (Validation.CheckSubscription(spec) is { } invalid) return Problems.Validation(invalid);
            if (body.StartAfter is < 0) return Problems.Validation("startAfter is a sequence (>= 0)");
            return await gateway.WriteAsync(request, new CreateSubscription(spec, body.StartAfter), r =>
            {
                var view = ViewOf(gateway, ((SubscriptionResult)r).Subscription);
                return Results.Created($"/api/subscriptions/{view.Name}", view);
            });
        })
        .WithSummary("Create a push subscription (admin): the leader POSTs matching events to its endpoint, in order, at least once, in batches; the same settings again change nothing")
        .Produces<Contract.Subscription>(201).JsonBodyOf<Contract.SubscriptionRequest>().IdempotentWrite()
        .Refuses(409, "subscription_exists", "too_many_subscriptions");

        subscriptions.MapGet("/", async (HttpRequest request, Gateway gateway) =>
        {
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return Results.Ok(gateway.State.Read(s => s.ListSubscriptions().Select(sub => Views.Subscription(sub, s.LastEventSequence, s.FirstRetainedEventSequence)).ToArray()));
        })
        .WithSummary("List every subscription (admin): state (active, stuck, suspended), recorded position, lag, attempts and last error")
        .Produces<Contract.Subscription[]>().ReadConsistency();

        subscriptions.MapGet("/{name}", async (string name, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckId(name, "subscription") is { } invalid) return Problems.Validation(invalid);
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            var view = gateway.State.Read(s => s.GetSubscription(name) is { } sub ? Views.Subscription(sub, s.LastEventSequence, s.FirstRetainedEventSequence) : null);
            return view is null ? Problems.Of(404, "subscription_not_found", $"no subscription {name}") : Results.Ok(view);
        })
        .WithSummary("Read a subscription (admin): state, recorded position, lag, attempts and last error")
        .Produces<Contract.Subscription>().ReadConsistency().Refuses(404, "subscription_not_found");

        subscriptions.MapDelete("/{name}", (string name, HttpRequest request, Gateway gateway) =>
            WriteAsync(name, request, gateway, new DeleteSubscription(name)))
            .WithSummary("Drop a subscription and its position (admin); answers its last state")
            .Produces<Contract.Subscription>().IdempotentWrite().Refuses(404, "subscription_not_found");

        subscriptions.MapPost("/{name}/retry", (string name, HttpRequest request, Gateway gateway) =>
            WriteAsync(name, request, gateway, new RetrySubscription(name)))
            .WithSummary("Retry a stuck subscription now (admin): its attempts and stuck flag are cleared and the leader calls it at once")
            .Produces<Contract.Subscription>().IdempotentWrite().Refuses(404, "subscription_not_found").Refuses(409, "subscription_suspended");

        subscriptions.MapPost("/{name}/resume", async (string name, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckId(name, "subscription") is { } invalid) return Problems.Validation(invalid);
            var (body, problem) = await JsonBody.ReadAsync<Contract.SubscriptionResumeRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (body!.Position is not { } position || position < 0) return Problems.Validation("position is the sequence to deliver after (>= 0)");
            return await WriteAsync(name, request, gateway, new ResumeSubscription(name, position));
        })
        .WithSummary("Resume a subscription from a position (admin): a suspended one after the events it lost, or any one to replay; delivery continues after it")
        .Produces<Contract.Subscription>().JsonBodyOf<Contract.SubscriptionResumeRequest>().IdempotentWrite().Refuses(404, "subscription_not_found");
        return app;
    }

    private static async Task<IResult> WriteAsync(string name, HttpRequest request, Gateway gateway, MallCommand command)
    {
        if (Validation.CheckId(name, "subscription") is { } invalid) return Problems.Validation(invalid);
        return await gateway.WriteAsync(request, command, r => Results.Ok(ViewOf(gateway, ((SubscriptionResult)r).Subscription)));
    }

    private static Contract.Subscription ViewOf(Gateway gateway, Subscription subscription) =>
        gateway.State.Read(s => Views.Subscription(subscription, s.LastEventSequence, s.FirstRetainedEventSequence));
}
