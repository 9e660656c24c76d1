using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

public static class StockEndpoints
{
    public static IEndpointRouteBuilder MapStock(this IEndpointRouteBuilder app)
    {
        var stock = app.MapGroup("/api/stock").WithTags("Stock");

        stock.MapPut("/{sku}", async (string sku, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckId(sku, "sku") is { } skuError) return Problems.Validation(skuError);
            var (body, problem) = await JsonBody.ReadAsync<Contract.StockRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (body!.Available is not { } available) return Problems.Validation("available is required");
            if (available < 0 || available > MallLimits.MaxAvailablePerSku) return Problems.Validation($"available must be between 0 and {MallLimits.MaxAvailablePerSku}");
            return await gateway.WriteAsync(request, new SetStock(sku, available), r => Results.Ok(Views.Stock(((StockResult)r).Stock)));
        })
        .WithSummary("Set the available count of a sku (creating it)")
        .Produces<Contract.StockLevel>().JsonBodyOf<Contract.StockRequest>().IdempotentWrite();

        stock.MapGet("/{sku}", async (string sku, HttpRequest request, Gateway gateway) =>
        {
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return gateway.State.Read(s => s.GetStock(sku)) is { } level
                ? Results.Ok(Views.Stock(level))
                : Problems.Of(404, "unknown_sku", $"unknown sku {sku}");
        })
        .WithSummary("Read one sku's stock (linearizable; ?consistency=local reads this node's state)")
        .Produces<Contract.StockLevel>().ReadConsistency().Refuses(404, "unknown_sku");

        stock.MapGet("/", async (HttpRequest request, Gateway gateway) =>
        {
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return Results.Ok(gateway.State.Read(s => s.ListStock()).Select(Views.Stock).ToArray());
        })
        .WithSummary("List every sku's stock, ordered by sku")
        .Produces<Contract.StockLevel[]>().ReadConsistency();
        return app;
    }
}
