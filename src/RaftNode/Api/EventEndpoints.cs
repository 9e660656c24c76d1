namespace RaftMall.Node.Api;

public static class EventEndpoints
{
    public const int MaxPageSize = 1_000;
    public const int MaxWaitSeconds = 30;

    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/events", async (HttpRequest request, Gateway gateway, TimeProvider time, long? after, int? limit, int? waitSeconds) =>
        {
            if (CheckPage(after ?? 0, limit, waitSeconds) is { } invalid) return invalid;
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return Results.Ok(await WaitForPageAsync(request, gateway, time, after ?? 0, limit ?? 100, waitSeconds ?? 0));
        })
        .WithTags("Events")
        .WithSummary("Read the outbox after a sequence number; long-polls up to waitSeconds when nothing is new")
        .Produces<Contract.EventPage>().ReadConsistency();
        return app;
    }

    /// <summary>The problem for page parameters out of range, or null.</summary>
    public static IResult? CheckPage(long after, int? limit, int? waitSeconds)
    {
        if (after < 0) return Problems.Validation("after is a sequence number (>= 0)");
        if (limit is < 1 or > MaxPageSize) return Problems.Validation($"limit is between 1 and {MaxPageSize}");
        if (waitSeconds is < 0 or > MaxWaitSeconds) return Problems.Validation($"waitSeconds is between 0 and {MaxWaitSeconds}");
        return null;
    }

    /// <summary>The events after <paramref name="after"/>; when there are none, waits up to <paramref name="waitSeconds"/> for one to commit.</summary>
    public static async Task<Contract.EventPage> WaitForPageAsync(HttpRequest request, Gateway gateway, TimeProvider time, long after, int pageSize, int waitSeconds)
    {
        var deadline = time.GetUtcNow().AddSeconds(waitSeconds);
        while (true)
        {
            var changed = gateway.State.EventsChanged; // take the signal before reading, so no event slips between
            var page = gateway.State.Read(s => (Events: s.ReadEvents(after, pageSize), Last: s.LastEventSequence, First: s.FirstRetainedEventSequence));
            var remaining = deadline - time.GetUtcNow();
            if (page.Events.Count > 0 || remaining <= TimeSpan.Zero)
            {
                return new Contract.EventPage([.. page.Events.Select(Views.Event)], page.Last, page.First);
            }
            await Task.WhenAny(changed, Task.Delay(remaining, time, request.HttpContext.RequestAborted));
            request.HttpContext.RequestAborted.ThrowIfCancellationRequested();
        }
    }
}
