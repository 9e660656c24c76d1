using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>
/// Pull consumers with a committed position: a consumer reads the outbox after its position and acknowledges as it
/// goes; the position is in the log, so the consumer resumes where it left off whichever node it asks. A position
/// behind the outbox's retention is answered 410 events_trimmed, never skipped silently.
/// </summary>
public static class ConsumerEndpoints
{
    public static IEndpointRouteBuilder MapConsumers(this IEndpointRouteBuilder app)
    {
        var consumers = app.MapGroup("/api/consumers").WithTags("Consumers");

        consumers.MapGet("/", async (HttpRequest request, Gateway gateway) =>
        {
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return Results.Ok(gateway.State.Read(s => s.ListConsumers().Select(c => Views.Consumer(c, s.LastEventSequence, s.FirstRetainedEventSequence)).ToArray()));
        })
        .WithSummary("List every consumer's committed position, lag and missed events")
        .Produces<Contract.ConsumerPosition[]>().ReadConsistency();

        consumers.MapGet("/{name}", async (string name, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckId(name, "consumer") is { } invalid) return Problems.Validation(invalid);
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            var view = gateway.State.Read(s => s.GetConsumer(name) is { } c ? Views.Consumer(c, s.LastEventSequence, s.FirstRetainedEventSequence) : null);
            return view is null ? Problems.Of(404, "consumer_not_found", $"no consumer {name}: it has acknowledged nothing yet") : Results.Ok(view);
        })
        .WithSummary("Read a consumer's committed position, its lag and the events it missed (behind the outbox's retention)")
        .Produces<Contract.ConsumerPosition>().ReadConsistency().Refuses(404, "consumer_not_found");

        consumers.MapGet("/{name}/events", async (string name, HttpRequest request, Gateway gateway, TimeProvider time, long? after, int? limit, int? waitSeconds) =>
        {
            if (Validation.CheckId(name, "consumer") is { } invalid) return Problems.Validation(invalid);
            if (EventEndpoints.CheckPage(after ?? 0, limit, waitSeconds) is { } invalidPage) return invalidPage;
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            var (from, first, retained) = gateway.State.Read(s => (after ?? s.GetConsumer(name)?.Sequence ?? 0, s.FirstRetainedEventSequence, s.RetainedEvents));
            if (from < first - 1)
            {
                return Problems.Of(StatusCodes.Status410Gone, Contract.ProblemCodes.EventsTrimmed,
                    $"consumer {name} reads after {from}, but events {from + 1}..{first - 1} are no longer kept (the outbox keeps the newest " +
                    $"{retained.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}); an admin moves it past them knowingly: PUT /api/consumers/{name}/position {{\"sequence\": {first - 1}}}");
            }
            return Results.Ok(await EventEndpoints.WaitForPageAsync(request, gateway, time, from, limit ?? 100, waitSeconds ?? 0));
        })
        .WithSummary("Read the events after the consumer's committed position (or after=); long-polls up to waitSeconds; 410 when events after it were trimmed")
        .Produces<Contract.EventPage>().ReadConsistency().Refuses(400, Contract.ProblemCodes.Validation).Refuses(410, Contract.ProblemCodes.EventsTrimmed);

        consumers.MapPost("/{name}/ack", (string name, HttpRequest request, Gateway gateway) =>
            WritePositionAsync(name, request, gateway, sequence => new AckConsumer(name, sequence)))
            .WithSummary("Acknowledge every event up to a sequence (writer): the position moves forward only; a late or repeated ack changes nothing")
            .Produces<Contract.ConsumerPosition>().JsonBodyOf<Contract.ConsumerAckRequest>().IdempotentWrite().Refuses(409, "too_many_consumers");

        consumers.MapPut("/{name}/position", (string name, HttpRequest request, Gateway gateway) =>
            WritePositionAsync(name, request, gateway, sequence => new MoveConsumer(name, sequence)))
            .WithSummary("Set a consumer's position anywhere up to the newest event (admin): replay, or skip trimmed events knowingly")
            .Produces<Contract.ConsumerPosition>().JsonBodyOf<Contract.ConsumerAckRequest>().IdempotentWrite().Refuses(409, "too_many_consumers");

        consumers.MapDelete("/{name}", async (string name, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckId(name, "consumer") is { } invalid) return Problems.Validation(invalid);
            return await gateway.WriteAsync(request, new DeleteConsumer(name), r => Results.Ok(ViewOf(gateway, ((ConsumerResult)r).Consumer)));
        })
        .WithSummary("Forget a consumer and its position (admin); answers its last position")
        .Produces<Contract.ConsumerPosition>().IdempotentWrite().Refuses(404, "consumer_not_found");
        return app;
    }

    private static async Task<IResult> WritePositionAsync(string name, HttpRequest request, Gateway gateway, Func<long, MallCommand> command)
    {
        if (Validation.CheckId(name, "consumer") is { } invalid) return Problems.Validation(invalid);
        var (body, problem) = await JsonBody.ReadAsync<Contract.ConsumerAckRequest>(request, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        if (body!.Sequence is not { } sequence || sequence < 0) return Problems.Validation("sequence is the last event processed (>= 0)");
        return await gateway.WriteAsync(request, command(sequence), r => Results.Ok(ViewOf(gateway, ((ConsumerResult)r).Consumer)));
    }

    private static Contract.ConsumerPosition ViewOf(Gateway gateway, ConsumerPosition consumer) =>
        gateway.State.Read(s => Views.Consumer(consumer, s.LastEventSequence, s.FirstRetainedEventSequence));
}
