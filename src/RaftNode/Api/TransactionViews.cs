using System.Text.Json;
using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>Turns a request body into a <see cref="BeginTransaction"/>, or says what is wrong with it.</summary>
public static class TransactionRequests
{
    /// <summary>Default transaction timeout when the request gives none.</summary>
    public const long DefaultTimeoutMs = 30_000;

    public static (BeginTransaction? Command, string? Problem) ToCommand(Contract.TransactionRequest body, string gid)
    {
        if (!TransactionNames.TryParseMode(body.Mode, out var mode)) return (null, "mode is tcc, 2pc or saga");
        if (body.Branches is null) return (null, "branches must list the transaction's branches");
        if (body.Branches.Length > MallLimits.MaxBranchesPerTransaction) return (null, $"a transaction has at most {MallLimits.MaxBranchesPerTransaction} branches");
        var branches = new BranchSpec[body.Branches.Length];
        for (var i = 0; i < branches.Length; i++)
        {
            var (spec, problem) = ToSpec(body.Branches[i], mode);
            if (problem is not null) return (null, $"branches[{i}]: {problem}");
            branches[i] = spec!;
        }
        return (new BeginTransaction(gid, mode, body.TimeoutMs ?? DefaultTimeoutMs, branches), null);
    }

    private static (BranchSpec? Spec, string? Problem) ToSpec(Contract.TransactionBranchRequest? b, TransactionMode mode)
    {
        if (b is null) return (null, "a branch is an object");
        if (Validation.CheckId(b.BranchId, "branchId") is { } idError) return (null, idError);
        // A JSON null is the same as an absent field (clients that write every property send nulls).
        var payloadGiven = b.Payload is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) };
        var http = b.Try ?? b.Confirm ?? b.Cancel ?? b.Prepare ?? b.Commit ?? b.Rollback ?? b.Action ?? b.Compensate;
        switch (b.Kind)
        {
            case "http":
                if (b.Sku is not null || b.Quantity is not null || b.UserId is not null || b.Items is not null) return (null, "an http branch has no sku, quantity, userId or items");
                var (phase1, commit, abort, names) = mode switch
                {
                    TransactionMode.Tcc => (b.Try, b.Confirm, b.Cancel, "try, confirm and cancel"),
                    TransactionMode.TwoPhase => (b.Prepare, b.Commit, b.Rollback, "prepare, commit and rollback"),
                    _ => (b.Action, "", b.Compensate, "action and compensate"),
                };
                var given = new[] { b.Try, b.Confirm, b.Cancel, b.Prepare, b.Commit, b.Rollback, b.Action, b.Compensate }.Count(u => u is not null);
                if (phase1 is null || commit is null || abort is null || given != (mode == TransactionMode.Saga ? 2 : 3))
                {
                    return (null, $"an http branch of a {TransactionNames.Mode(mode)} transaction has exactly the URLs {names}");
                }
                var payload = payloadGiven ? b.Payload!.Value.GetRawText() : "{}";
                return (BranchSpec.Http(b.BranchId!, phase1, commit, abort, payload, b.TimeoutMs ?? 0), null);
            case "stock":
                if (http is not null || payloadGiven || b.TimeoutMs is not null || b.UserId is not null || b.Items is not null) return (null, "a stock branch has only sku and quantity");
                if (b.Sku is null || b.Quantity is null) return (null, "a stock branch needs sku and quantity");
                return (BranchSpec.Stock(b.BranchId!, b.Sku, b.Quantity.Value), null);
            case "order":
                if (http is not null || payloadGiven || b.TimeoutMs is not null || b.Sku is not null || b.Quantity is not null) return (null, "an order branch has only userId and items");
                if (b.UserId is null || b.Items is null || b.Items.Any(i => i is null || i.Sku is null || i.Quantity is null)) return (null, "an order branch needs userId and items [{sku, quantity}]");
                return (BranchSpec.Order(b.BranchId!, b.UserId, [.. b.Items.Select(i => new OrderItem(i.Sku!, i.Quantity!.Value))]), null);
            default:
                return (null, "kind is http, stock or order");
        }
    }
}
