using System.Security.Cryptography;
using System.Text;
using RaftMall.Node.Drivers;
using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

public static class TransactionEndpoints
{
    public const int MaxPageSize = 1_000;

    /// <summary>Longest a begin request waits for its transaction beyond the transaction's own timeout.</summary>
    public static readonly TimeSpan WaitGrace = TimeSpan.FromSeconds(2);

    /// <summary>Longest a begin request waits at all; the transaction goes on after the answer.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    public static IEndpointRouteBuilder MapTransactions(this IEndpointRouteBuilder app)
    {
        var txns = app.MapGroup("/api/transactions").WithTags("Transactions");

        txns.MapPost("/", async (HttpRequest request, Gateway gateway, TransactionDriver driver, TransactionWaiters waiters, string? wait) =>
        {
            if (wait is not (null or "none" or "decided" or "finished")) return Problems.Validation("wait is none, decided (the default) or finished");
            var (body, problem) = await JsonBody.ReadAsync<Contract.TransactionRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            var (command, invalid) = TransactionRequests.ToCommand(body!, body!.Gid ?? NewGid(request));
            if (invalid is not null) return Problems.Validation(invalid);
            if (MallStateMachine.CheckBegin(command!) is { } shapeError) return Problems.Validation(shapeError);

            GlobalTransaction? begun = null;
            var written = await gateway.WriteAsync(request, command!, r =>
            {
                begun = ((TransactionResult)r).Transaction;
                return Results.Empty;
            });
            if (begun is null) return written; // a problem
            driver.Start(begun.Gid);
            Func<GlobalTransaction, bool>? reached = wait switch
            {
                "none" => null,
                "finished" => t => t.IsFinished,
                _ => t => t.IsDecided,
            };
            var txn = begun;
            if (reached is not null)
            {
                var budget = TimeSpan.FromMilliseconds(command!.TimeoutMs) + WaitGrace;
                txn = await waiters.WaitAsync(begun.Gid, reached, budget < MaxWait ? budget : MaxWait, request.HttpContext.RequestAborted) ?? begun;
            }
            var location = $"/api/transactions/{txn.Gid}";
            return reached is not null && reached(txn) ? Results.Created(location, Views.Transaction(txn)) : Results.Accepted(location, Views.Transaction(txn));
        })
        .WithSummary("Begin a global transaction (tcc, 2pc or saga) with its branches; ?wait=none|decided|finished says how long to wait for it")
        .Produces<Contract.GlobalTransaction>(201).Produces<Contract.GlobalTransaction>(202).JsonBodyOf<Contract.TransactionRequest>().IdempotentWrite()
        .Refuses(409, "transaction_exists");

        txns.MapGet("/{gid}", async (string gid, HttpRequest request, Gateway gateway) =>
        {
            if (Validation.CheckId(gid, "gid") is { } invalid) return Problems.Validation(invalid);
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            return gateway.State.Read(s => s.GetTransaction(gid)) is { } txn
                ? Results.Ok(Views.Transaction(txn))
                : Problems.Of(404, "transaction_not_found", $"no transaction {gid}");
        })
        .WithSummary("Read one transaction: status, decision and every branch's state, attempts and last error")
        .Produces<Contract.GlobalTransaction>().ReadConsistency().Refuses(404, "transaction_not_found");

        txns.MapGet("/", async (HttpRequest request, Gateway gateway, string? status, bool? stuck, string? after, int? limit) =>
        {
            TransactionStatus? statusFilter = null;
            if (status is not null)
            {
                if (!TransactionNames.TryParseStatus(status, out var parsed)) return Problems.Validation("status is open, committing, aborting, committed or aborted");
                statusFilter = parsed;
            }
            var pageSize = limit ?? 100;
            if (pageSize is < 1 or > MaxPageSize) return Problems.Validation($"limit is between 1 and {MaxPageSize}");
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            var page = gateway.State.Read(s => s.ListTransactions(statusFilter, after, pageSize, stuck ?? false));
            return Results.Ok(new Contract.TransactionPage([.. page.Select(Views.Transaction)], page.Count == pageSize ? page[^1].Gid : null));
        })
        .WithSummary("List transactions by gid, optionally by status and only those with stuck branches; pass nextAfter as after for the next page")
        .Produces<Contract.TransactionPage>().ReadConsistency();

        txns.MapPost("/{gid}/retry", async (string gid, HttpRequest request, Gateway gateway, TransactionDriver driver) =>
        {
            if (Validation.CheckId(gid, "gid") is { } invalid) return Problems.Validation(invalid);
            return await gateway.WriteAsync(request, new RetryTransaction(gid), r =>
            {
                driver.Retry(gid); // this node leads: the write just committed here
                return Results.Ok(Views.Transaction(((TransactionResult)r).Transaction));
            });
        })
        .WithSummary("Operator: call the transaction's outstanding phase-2 branches again now (clears their stuck flags, resets their backoff)")
        .Produces<Contract.GlobalTransaction>().IdempotentWrite().Refuses(404, "transaction_not_found").Refuses(409, "transaction_not_decided", "transaction_finished");
        return app;
    }

    /// <summary>
    /// A gid for a request that gave none. With an Idempotency-Key it is derived from the key, so a retry through any
    /// node names the same transaction (and the key's fingerprint matches); otherwise it is random.
    /// </summary>
    private static string NewGid(HttpRequest request)
    {
        var key = request.Headers[Contract.RaftMallHeaders.IdempotencyKey].ToString();
        var bytes = key.Length > 0 ? SHA256.HashData(Encoding.UTF8.GetBytes(key))[..12] : RandomNumberGenerator.GetBytes(12);
        return "txn-" + Convert.ToHexStringLower(bytes);
    }
}
