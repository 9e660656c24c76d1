using System.Text.Json;
using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

// Request and response bodies of /api/transactions (api.md, "Global transactions").

/// <summary>One branch of a new transaction; which fields apply depends on <see cref="Kind"/> and the transaction's mode.</summary>
public sealed record BranchRequest(
    string? BranchId, string? Kind,
    string? Try, string? Confirm, string? Cancel,
    string? Prepare, string? Commit, string? Rollback,
    string? Action, string? Compensate,
    JsonElement? Payload, long? TimeoutMs,
    string? Sku, int? Quantity,
    string? UserId, List<OrderItemRequest>? Items);

public sealed record BeginTransactionRequest(string? Gid, string? Mode, long? TimeoutMs, List<BranchRequest>? Branches);

public sealed record BranchView(string BranchId, string Kind, string State, int Attempts, string? LastError, bool Stuck, long? OrderId)
{
    public static BranchView Of(GlobalTransaction txn, TransactionBranch b) => new(
        b.BranchId, TransactionNames.Kind(b.Spec.Kind), TransactionNames.BranchState(txn, b), b.Attempts,
        b.LastError.Length == 0 ? null : b.LastError, b.Stuck, b.OrderId == 0 ? null : b.OrderId);
}

public sealed record TransactionView(
    string Gid, string Mode, string Status, string? Decision, string? Reason, DateTimeOffset BeganAt, DateTimeOffset Deadline,
    DateTimeOffset? DecidedAt, BranchView[] Branches)
{
    public static TransactionView Of(GlobalTransaction t) => new(
        t.Gid, TransactionNames.Mode(t.Mode), TransactionNames.Status(t.Status), t.IsDecided ? MallStateMachine.DecisionName(t.Decision) : null,
        t.IsDecided ? t.DecisionReason : null, OrderView.Time(t.BeganAtMs), OrderView.Time(t.DeadlineMs),
        t.IsDecided ? OrderView.Time(t.DecidedAtMs) : null, [.. t.Branches.Select(b => BranchView.Of(t, b))]);
}

public sealed record TransactionPage(TransactionView[] Transactions, string? NextAfter);

/// <summary>Turns a request body into a <see cref="BeginTransaction"/>, or says what is wrong with it.</summary>
public static class TransactionRequests
{
    /// <summary>Default transaction timeout when the request gives none.</summary>
    public const long DefaultTimeoutMs = 30_000;

    public static (BeginTransaction? Command, string? Problem) ToCommand(BeginTransactionRequest body, string gid)
    {
        if (!TransactionNames.TryParseMode(body.Mode, out var mode)) return (null, "mode is tcc, 2pc or saga");
        if (body.Branches is null) return (null, "branches must list the transaction's branches");
        if (body.Branches.Count > MallLimits.MaxBranchesPerTransaction) return (null, $"a transaction has at most {MallLimits.MaxBranchesPerTransaction} branches");
        var branches = new BranchSpec[body.Branches.Count];
        for (var i = 0; i < branches.Length; i++)
        {
            var (spec, problem) = ToSpec(body.Branches[i], mode);
            if (problem is not null) return (null, $"branches[{i}]: {problem}");
            branches[i] = spec!;
        }
        return (new BeginTransaction(gid, mode, body.TimeoutMs ?? DefaultTimeoutMs, branches), null);
    }

    private static (BranchSpec? Spec, string? Problem) ToSpec(BranchRequest? b, TransactionMode mode)
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
