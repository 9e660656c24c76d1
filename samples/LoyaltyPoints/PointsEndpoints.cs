using System.Text.Json;
using RaftMall.Client.Participants;

namespace RaftMall.Samples.LoyaltyPoints;

/// <summary>The branch payload of a points transaction.</summary>
public sealed record PointsPayload(string? Account, long Points);

/// <summary>The body of PUT /accounts/{account}.</summary>
public sealed record SetPoints(long Points);

/// <summary>The service's API: accounts, the TCC endpoints behind the barrier, and effect counters.</summary>
public static class PointsEndpoints
{
    /// <summary>Largest number of points in one account or one transaction.</summary>
    public const long MaxPoints = 1_000_000_000;

    public const int MaxAccountLength = 128;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapPointsEndpoints(this IEndpointRouteBuilder app, PointsJournal journal, ParticipantBarrier<PointsTransaction> barrier, TestControl? control)
    {
        app.MapPut("/accounts/{account}", async (string account, SetPoints body) =>
        {
            if (ValidateAccount(account, body.Points, allowZero: true) is { } invalid) return invalid;
            var transaction = await journal.BeginAsync(CancellationToken.None);
            await using (transaction)
            {
                transaction.SetAvailable(account, body.Points);
                await transaction.CommitAsync(CancellationToken.None);
            }
            return Results.Ok(await journal.GetAccountAsync(account));
        });
        app.MapGet("/accounts/{account}", async (string account) =>
            await journal.GetAccountAsync(account) is { } found ? Results.Ok(found) : Problem(404, "unknown_account", $"no account {account}"));
        app.MapGet("/effects", async () => Results.Ok(await journal.GetEffectsAsync()));
        app.MapGet("/effects/{gid}", async (string gid) =>
            Results.Ok((await journal.GetEffectsAsync()).GetValueOrDefault(gid) ?? new EffectCounts(0, 0, 0, 0)));

        app.MapPost("/tcc/{operation}", async (string operation, HttpRequest request) =>
        {
            ParticipantCall call;
            try
            {
                call = ParticipantCall.FromHeaders(name => request.Headers[name].FirstOrDefault());
            }
            catch (ParticipantCallException e)
            {
                return Problem(400, e.Code, e.Message);
            }
            if (!string.Equals(operation, call.Operation.ToString(), StringComparison.OrdinalIgnoreCase) || call.Mode != ParticipantMode.Tcc)
            {
                return Problem(400, "operation_mismatch", $"/tcc/{operation} received a {call.Operation} call of mode {call.Mode}");
            }
            PointsPayload? payload;
            try
            {
                payload = await request.ReadFromJsonAsync<PointsPayload>(Json);
            }
            catch (JsonException e)
            {
                return Problem(400, "invalid_payload", $"the body is not a points payload: {e.Message}");
            }
            if (payload?.Account is not { } account) return Problem(400, "invalid_payload", "the body needs account and points");
            if (ValidateAccount(account, payload.Points, allowZero: false) is { } invalid) return invalid;
            if (control is not null && !await control.ApplyAsync(call, request.HttpContext.RequestAborted))
            {
                return Problem(503, "test_control_fail", $"{call.Operation} of {call.Gid}/{call.BranchId} failed by a test-control rule");
            }
            // Not the request's token: once the barrier runs, let it finish, so that an abandoned call still ends committed or not at all.
            var outcome = await barrier.HandleAsync(call, (tx, _) => ValueTask.FromResult(Effect(tx, call.Phase, account, payload.Points)), CancellationToken.None);
            return Results.Content(outcome.Answer.Body ?? "{}", "application/json", statusCode: outcome.Answer.Status);
        });
    }

    private static BarrierAnswer Effect(PointsTransaction tx, BarrierPhase phase, string account, long points)
    {
        switch (phase)
        {
            case BarrierPhase.Try:
                if (tx.Find(account) is null) return BarrierAnswer.Refused(ProblemJson(409, "unknown_account", $"no account {account}"));
                return tx.Freeze(account, points)
                    ? BarrierAnswer.Ok(JsonSerializer.Serialize(new { account, frozen = points }, Json))
                    : BarrierAnswer.Refused(ProblemJson(409, "insufficient_points", $"{account} has fewer than {points} available points"));
            case BarrierPhase.Confirm:
                tx.Deduct(account, points);
                return BarrierAnswer.Ok(JsonSerializer.Serialize(new { account, spent = points }, Json));
            default:
                tx.Unfreeze(account, points);
                return BarrierAnswer.Ok(JsonSerializer.Serialize(new { account, unfrozen = points }, Json));
        }
    }

    private static IResult? ValidateAccount(string account, long points, bool allowZero)
    {
        if (account.Length is 0 or > MaxAccountLength) return Problem(400, "invalid_payload", $"account must have 1 to {MaxAccountLength} characters");
        if (points < (allowZero ? 0 : 1) || points > MaxPoints) return Problem(400, "invalid_payload", $"points must be {(allowZero ? 0 : 1)} to {MaxPoints}");
        return null;
    }

    internal static IResult Problem(int status, string code, string detail) =>
        Results.Content(ProblemJson(status, code, detail), "application/problem+json", statusCode: status);

    private static string ProblemJson(int status, string code, string detail) =>
        JsonSerializer.Serialize(new { type = "about:blank", title = status == 409 ? "Conflict" : "Error", status, code, detail }, Json);
}
