using System.Globalization;
using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

public static class KvEndpoints
{
    public static IEndpointRouteBuilder MapKv(this IEndpointRouteBuilder app)
    {
        var kv = app.MapGroup("/api/kv").WithTags("Key-value");

        kv.MapPut("/{**key}", async (string key, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckKey(key) is { } keyError) return Problems.Validation(keyError);
            if (!TryIfMatch(request, out var expected)) return Problems.Validation("If-Match is a revision number");
            var (body, problem) = await JsonBody.ReadAsync<Contract.KvPutRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (Validation.CheckValue(body!.Value) is { } valueError) return Problems.Validation(valueError);
            return await gateway.WriteAsync(request, new KvPut(key, body.Value!, expected), r => Results.Ok(Views.Kv(((KvResult)r).Entry)));
        })
        .WithSummary("Put a value; with If-Match: <revision> only if the key is at that revision (0: only if it does not exist)")
        .Produces<Contract.KvEntry>().JsonBodyOf<Contract.KvPutRequest>().IdempotentWrite().RevisionCondition();

        kv.MapGet("/{**key}", async (string key, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckKey(key) is { } keyError) return Problems.Validation(keyError);
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return gateway.State.Read(s => s.GetKv(key)) is { } entry
                ? Results.Ok(Views.Kv(entry))
                : Problems.Of(404, "key_not_found", $"no key {key}");
        })
        .WithSummary("Read a key (linearizable; ?consistency=local reads this node's state)")
        .Produces<Contract.KvEntry>().ReadConsistency().Refuses(404, "key_not_found");

        kv.MapDelete("/{**key}", async (string key, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckKey(key) is { } keyError) return Problems.Validation(keyError);
            if (!TryIfMatch(request, out var expected)) return Problems.Validation("If-Match is a revision number");
            return await gateway.WriteAsync(request, new KvDelete(key, expected), _ => Results.NoContent());
        })
        .WithSummary("Delete a key; with If-Match only if it is at that revision")
        .Produces(204).IdempotentWrite().RevisionCondition().Refuses(404, "key_not_found");
        return app;
    }

    /// <summary>If-Match carries a revision, bare or as a quoted entity tag.</summary>
    private static bool TryIfMatch(HttpRequest request, out long? revision)
    {
        revision = null;
        var header = request.Headers.IfMatch;
        if (header.Count == 0) return true;
        if (header.Count > 1) return false;
        var text = header[0]!.Trim().Trim('"');
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return false;
        revision = value;
        return true;
    }
}
