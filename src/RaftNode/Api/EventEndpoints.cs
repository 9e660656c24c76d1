namespace RaftMall.Node.Api;

public static class EventEndpoints
{
    public const int MaxPageSize = 1_000;
    public const int MaxWaitSeconds = 30;

    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/events", async (HttpRequest request, Gateway gateway, TimeProvider time, long? after, int? limit, int? waitSeconds) =>
        {
            var from = after ?? 0;
            var pageSize = limit ?? 100;
            var wait = waitSeconds ?? 0;
            if (from < 0) return Problems.Validation("after is a sequence number (>= 0)");
            if (pageSize is < 1 or > MaxPageSize) return Problems.Validation($"limit is between 1 and {MaxPageSize}");
            if (wait is < 0 or > MaxWaitSeconds) return Problems.Validation($"waitSeconds is between 0 and {MaxWaitSeconds}");
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;

            var deadline = time.GetUtcNow().AddSeconds(wait);
            while (true)
            {
                var changed = gateway.State.EventsChanged; // take the signal before reading, so no event slips between
                var page = gateway.State.Read(s => (Events: s.ReadEvents(from, pageSize), Last: s.LastEventSequence, First: s.FirstRetainedEventSequence));
                var remaining = deadline - time.GetUtcNow();
                if (page.Events.Count > 0 || remaining <= TimeSpan.Zero)
                {
                    return Results.Ok(new Contract.EventPage([.. page.Events.Select(Views.Event)], page.Last, page.First));
                }
                await Task.WhenAny(changed, Task.Delay(remaining, time, request.HttpContext.RequestAborted));
                request.HttpContext.RequestAborted.ThrowIfCancellationRequested();
            }
        })
        .WithTags("Events")
        .WithSummary("Read the outbox after a sequence number; long-polls up to waitSeconds when nothing is new")
        .Produces<Contract.EventPage>().ReadConsistency();
        return app;
    }
}
