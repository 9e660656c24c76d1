namespace RaftMall.StateMachine;

/// <summary>Wire names of transaction modes, statuses, branch kinds and branch states (api.md).</summary>
public static class TransactionNames
{
    public static string Mode(TransactionMode mode) => mode switch
    {
        TransactionMode.Tcc => "tcc",
        TransactionMode.TwoPhase => "2pc",
        TransactionMode.Saga => "saga",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static bool TryParseMode(string? text, out TransactionMode mode)
    {
        (var known, mode) = text switch
        {
            "tcc" => (true, TransactionMode.Tcc),
            "2pc" => (true, TransactionMode.TwoPhase),
            "saga" => (true, TransactionMode.Saga),
            _ => (false, default),
        };
        return known;
    }

    public static string Status(TransactionStatus status) => status switch
    {
        TransactionStatus.Open => "open",
        TransactionStatus.Committing => "committing",
        TransactionStatus.Aborting => "aborting",
        TransactionStatus.Committed => "committed",
        TransactionStatus.Aborted => "aborted",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParseStatus(string? text, out TransactionStatus status)
    {
        foreach (var candidate in Enum.GetValues<TransactionStatus>())
        {
            if (Status(candidate) == text)
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }

    public static string Kind(BranchKind kind) => kind switch
    {
        BranchKind.Http => "http",
        BranchKind.Stock => "stock",
        BranchKind.Order => "order",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// A branch's state, the same words in every mode: pending, tried (try/prepare/action succeeded), failed (phase 1
    /// said no), confirming/confirmed (commit/confirm), cancelling/cancelled (cancel/rollback/compensate), skipped
    /// (abort needed no call: a saga step that refused).
    /// </summary>
    public static string BranchState(GlobalTransaction txn, TransactionBranch branch)
    {
        if (txn.Decision == Decision.Commit) return branch.Acknowledged ? "confirmed" : "confirming";
        if (txn.Decision == Decision.Abort)
        {
            if (!branch.Acknowledged) return "cancelling";
            return NeedsAbortCall(txn.Mode, branch) ? "cancelled" : "skipped";
        }
        return branch.Vote switch
        {
            Vote.Yes => "tried",
            Vote.No => "failed",
            _ => "pending",
        };
    }

    /// <summary>
    /// Whether an abort calls this branch's cancel/rollback/compensate. TCC and 2PC call every branch (an untried one
    /// answers with an empty rollback). A saga step that definitely refused did nothing and is skipped; a step whose
    /// outcome is unknown (it timed out) or that never answered is compensated, since it may have acted.
    /// </summary>
    public static bool NeedsAbortCall(TransactionMode mode, TransactionBranch branch) =>
        !(mode == TransactionMode.Saga && branch.Refused);
}
