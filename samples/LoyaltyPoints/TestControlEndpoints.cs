namespace RaftMall.Samples.LoyaltyPoints;

/// <summary>The test-control API (only mapped with --enable-test-control).</summary>
public static class TestControlEndpoints
{
    public static void MapTestControlEndpoints(this IEndpointRouteBuilder app, TestControl control)
    {
        app.MapGet("/test-control", () => Results.Ok(new { held = control.Held, heldTotal = control.HeldTotal, rules = control.Rules }));
        app.MapPost("/test-control/rules", (ControlRule rule) =>
        {
            if (!Enum.IsDefined(rule.Action) || string.IsNullOrEmpty(rule.Operation) || rule.DelayMs is < 0 or > TestControl.MaxDelayMs)
            {
                return PointsEndpoints.Problem(400, "invalid_rule", $"a rule needs operation, action (hold, fail, slow) and delayMs 0..{TestControl.MaxDelayMs}");
            }
            return Results.Ok(new { id = control.Add(rule) });
        });
        app.MapDelete("/test-control/rules/{id:int}", (int id) => control.Remove(id) ? Results.NoContent() : Results.NotFound());
        app.MapPost("/test-control/release", () => Results.Ok(new { released = control.Release() }));
    }
}
