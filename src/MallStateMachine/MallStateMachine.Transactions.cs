namespace RaftMall.StateMachine;

// Global transactions (2PC, TCC, saga): branches, votes, one final decision, phase-2 acknowledgements;
// and the TCC barrier per (transaction, branch).
public sealed partial class MallStateMachine
{
    private readonly Dictionary<string, GlobalTransaction> _transactions = new(StringComparer.Ordinal);
    private readonly SortedSet<(long DeadlineMs, string Gid)> _openByDeadline = new(DeadlineOrder.Instance);
    private readonly Dictionary<(string Gid, string BranchId), BarrierState> _barriers = [];

    private MallResult ApplyBeginTransaction(BeginTransaction c)
    {
        if (Validation.CheckId(c.Gid, "gid") is { } gidError) return Invalid(gidError);
        if (!Enum.IsDefined(c.Mode)) return Invalid("unknown transaction mode");
        if (c.TimeoutMs < MallLimits.MinTransactionTimeoutMs || c.TimeoutMs > MallLimits.MaxTransactionTimeoutMs)
        {
            return Invalid($"timeout must be between {MallLimits.MinTransactionTimeoutMs} ms and {MallLimits.MaxTransactionTimeoutMs} ms");
        }
        if (c.Branches is null || c.Branches.Length > MallLimits.MaxBranchesPerTransaction)
        {
            return Invalid($"a transaction has at most {MallLimits.MaxBranchesPerTransaction} branches");
        }
        var branches = new TransactionBranch[c.Branches.Length];
        for (var i = 0; i < branches.Length; i++)
        {
            if (CheckBranch(c.Branches[i]) is { } branchError) return Invalid(branchError);
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(branches[j].BranchId, c.Branches[i].BranchId, StringComparison.Ordinal))
                {
                    return Invalid($"branch {c.Branches[i].BranchId} appears twice");
                }
            }
            branches[i] = new TransactionBranch(c.Branches[i].BranchId, c.Branches[i].Resource, c.Branches[i].Payload, Vote.Pending, false);
        }
        if (_transactions.ContainsKey(c.Gid)) return new Rejected(ErrorCode.TransactionExists, $"transaction {c.Gid} exists");

        var txn = new GlobalTransaction(c.Gid, c.Mode, TransactionStatus.Open, Decision.None, "", LogTimeMs, LogTimeMs + c.TimeoutMs, 0, branches);
        _transactions.Add(c.Gid, txn);
        _openByDeadline.Add((txn.DeadlineMs, txn.Gid));
        _events.Append(LogTimeMs, EventKind.TransactionBegun, 0, c.Gid, detail: TransactionNames.Mode(c.Mode));
        foreach (var branch in branches) _events.Append(LogTimeMs, EventKind.BranchRegistered, 0, c.Gid, detail: branch.BranchId);
        return new TransactionResult(txn);
    }

    private MallResult ApplyRegisterBranch(RegisterBranch c)
    {
        if (!_transactions.TryGetValue(c.Gid, out var txn)) return TransactionNotFound(c.Gid);
        if (CheckBranch(c.Branch) is { } branchError) return Invalid(branchError);
        if (txn.IsDecided) return new Rejected(ErrorCode.TransactionDecided, $"transaction {c.Gid} is decided");
        if (txn.Branches.Length >= MallLimits.MaxBranchesPerTransaction)
        {
            return Invalid($"a transaction has at most {MallLimits.MaxBranchesPerTransaction} branches");
        }
        if (Array.Exists(txn.Branches, b => b.BranchId == c.Branch.BranchId))
        {
            return new Rejected(ErrorCode.BranchExists, $"branch {c.Branch.BranchId} exists");
        }
        var branch = new TransactionBranch(c.Branch.BranchId, c.Branch.Resource, c.Branch.Payload, Vote.Pending, false);
        txn = Store(txn with { Branches = [.. txn.Branches, branch] });
        _events.Append(LogTimeMs, EventKind.BranchRegistered, 0, c.Gid, detail: branch.BranchId);
        return new TransactionResult(txn);
    }

    private MallResult ApplyRecordVote(RecordVote c)
    {
        if (c.Vote is not (Vote.Yes or Vote.No)) return Invalid("a vote is yes or no");
        if (!_transactions.TryGetValue(c.Gid, out var txn)) return TransactionNotFound(c.Gid);
        var index = Array.FindIndex(txn.Branches, b => b.BranchId == c.BranchId);
        if (index < 0) return new Rejected(ErrorCode.BranchNotFound, $"no branch {c.BranchId} in {c.Gid}");
        var branch = txn.Branches[index];
        if (branch.Vote == c.Vote) return new TransactionResult(txn); // a repeated vote: idempotent
        if (branch.Vote != Vote.Pending) return new Rejected(ErrorCode.VoteFinal, $"branch {c.BranchId} already voted");
        if (txn.IsDecided) return new Rejected(ErrorCode.TransactionDecided, $"transaction {c.Gid} is decided");
        txn = Store(txn with { Branches = Replace(txn.Branches, index, branch with { Vote = c.Vote }) });
        _events.Append(LogTimeMs, EventKind.BranchVoted, 0, c.Gid, detail: c.BranchId + (c.Vote == Vote.Yes ? ":yes" : ":no"));
        return new TransactionResult(txn);
    }

    private MallResult ApplyDecide(DecideTransaction c)
    {
        if (c.Decision is not (Decision.Commit or Decision.Abort)) return Invalid("a decision is commit or abort");
        if (c.Reason is null || c.Reason.Length > MallLimits.MaxReasonLength) return Invalid($"reason is at most {MallLimits.MaxReasonLength} characters");
        if (!_transactions.TryGetValue(c.Gid, out var txn)) return TransactionNotFound(c.Gid);
        if (txn.Decision == c.Decision) return new TransactionResult(txn); // deciding the same again: idempotent
        if (txn.IsDecided)
        {
            return new Rejected(ErrorCode.DecisionFinal, $"transaction {c.Gid} was decided {DecisionName(txn.Decision)}; a decision never changes");
        }
        if (c.Decision == Decision.Commit && Array.Exists(txn.Branches, b => b.Vote != Vote.Yes))
        {
            return new Rejected(ErrorCode.VotesMissing, "commit needs a yes vote from every branch");
        }
        return new TransactionResult(Decide(txn, c.Decision, c.Reason));
    }

    private MallResult ApplyAcknowledge(AcknowledgeBranch c)
    {
        if (!_transactions.TryGetValue(c.Gid, out var txn)) return TransactionNotFound(c.Gid);
        var index = Array.FindIndex(txn.Branches, b => b.BranchId == c.BranchId);
        if (index < 0) return new Rejected(ErrorCode.BranchNotFound, $"no branch {c.BranchId} in {c.Gid}");
        if (!txn.IsDecided) return new Rejected(ErrorCode.TransactionNotDecided, $"transaction {c.Gid} is not decided yet");
        if (txn.Branches[index].Acknowledged) return new TransactionResult(txn);
        var branches = Replace(txn.Branches, index, txn.Branches[index] with { Acknowledged = true });
        _events.Append(LogTimeMs, EventKind.BranchAcknowledged, 0, c.Gid, detail: c.BranchId);
        var finished = Array.TrueForAll(branches, b => b.Acknowledged);
        var status = finished ? (txn.Decision == Decision.Commit ? TransactionStatus.Committed : TransactionStatus.Aborted) : txn.Status;
        txn = Store(txn with { Branches = branches, Status = status });
        if (finished) _events.Append(LogTimeMs, EventKind.TransactionFinished, 0, c.Gid, detail: TransactionNames.Status(status));
        return new TransactionResult(txn);
    }

    private MallResult ApplyBarrier(TccBarrier c)
    {
        if (Validation.CheckId(c.Gid, "gid") is { } gidError) return Invalid(gidError);
        if (Validation.CheckId(c.BranchId, "branchId") is { } branchError) return Invalid(branchError);
        var key = (c.Gid, c.BranchId);
        var known = _barriers.TryGetValue(key, out var state);
        (BarrierState next, bool effective, Rejected? refusal) = c.Operation switch
        {
            BarrierOperation.Try when !known => (BarrierState.Tried, true, null),
            BarrierOperation.Try when state is BarrierState.Cancelled or BarrierState.EmptyRollback =>
                (state, false, new Rejected(ErrorCode.TryAfterCancel, "this branch was cancelled; a late try is refused")),
            BarrierOperation.Try => (state, false, null), // repeated try, or try after confirm: nothing to do again
            BarrierOperation.Confirm when !known => (state, false, new Rejected(ErrorCode.ConfirmWithoutTry, "confirm before any try")),
            BarrierOperation.Confirm when state == BarrierState.Tried => (BarrierState.Confirmed, true, null),
            BarrierOperation.Confirm when state == BarrierState.Confirmed => (state, false, null),
            BarrierOperation.Confirm => (state, false, new Rejected(ErrorCode.AlreadyCancelled, "this branch was cancelled")),
            BarrierOperation.Cancel when !known => (BarrierState.EmptyRollback, false, null), // empty rollback
            BarrierOperation.Cancel when state == BarrierState.Tried => (BarrierState.Cancelled, true, null),
            BarrierOperation.Cancel when state == BarrierState.Confirmed =>
                (state, false, new Rejected(ErrorCode.AlreadyConfirmed, "this branch was confirmed")),
            BarrierOperation.Cancel => (state, false, null),
            _ => (state, false, Invalid("unknown barrier operation")),
        };
        if (refusal is not null) return refusal;
        _barriers[key] = next;
        return new BarrierResult(c.Gid, c.BranchId, next, effective);
    }

    private int AbortOverdueTransactions()
    {
        var aborted = 0;
        while (_openByDeadline.Count > 0 && _openByDeadline.Min.DeadlineMs <= LogTimeMs)
        {
            var (_, gid) = _openByDeadline.Min;
            Decide(_transactions[gid], Decision.Abort, "timeout");
            aborted++;
        }
        return aborted;
    }

    private GlobalTransaction Decide(GlobalTransaction txn, Decision decision, string reason)
    {
        Require(!txn.IsDecided, "a decision is made once and never changes");
        var finished = txn.Branches.Length == 0;
        var status = decision == Decision.Commit
            ? finished ? TransactionStatus.Committed : TransactionStatus.Committing
            : finished ? TransactionStatus.Aborted : TransactionStatus.Aborting;
        _openByDeadline.Remove((txn.DeadlineMs, txn.Gid));
        var decided = Store(txn with { Decision = decision, DecisionReason = reason, DecidedAtMs = LogTimeMs, Status = status });
        _events.Append(LogTimeMs, EventKind.TransactionDecided, 0, txn.Gid, detail: DecisionName(decision));
        if (finished) _events.Append(LogTimeMs, EventKind.TransactionFinished, 0, txn.Gid, detail: TransactionNames.Status(status));
        return decided;
    }

    private GlobalTransaction Store(GlobalTransaction txn)
    {
        if (_transactions.TryGetValue(txn.Gid, out var previous) && previous.IsDecided)
        {
            Require(previous.Decision == txn.Decision, "a decision never flips");
        }
        _transactions[txn.Gid] = txn;
        return txn;
    }

    private static string? CheckBranch(BranchSpec branch)
    {
        if (Validation.CheckId(branch.BranchId, "branchId") is { } idError) return idError;
        if (branch.Resource is null || branch.Resource.Length > MallLimits.MaxBranchPayloadLength) return "branch resource is required and bounded";
        if (branch.Payload is null || branch.Payload.Length > MallLimits.MaxBranchPayloadLength)
        {
            return $"branch payload is at most {MallLimits.MaxBranchPayloadLength} characters";
        }
        return null;
    }

    private static TransactionBranch[] Replace(TransactionBranch[] branches, int index, TransactionBranch branch)
    {
        var copy = (TransactionBranch[])branches.Clone();
        copy[index] = branch;
        return copy;
    }

    private static Rejected TransactionNotFound(string gid) => new(ErrorCode.TransactionNotFound, $"no transaction {gid}");

    public static string DecisionName(Decision decision) => decision switch
    {
        Decision.Commit => "commit",
        Decision.Abort => "abort",
        _ => "none",
    };

    private sealed class DeadlineOrder : IComparer<(long DeadlineMs, string Gid)>
    {
        public static readonly DeadlineOrder Instance = new();

        public int Compare((long DeadlineMs, string Gid) x, (long DeadlineMs, string Gid) y)
        {
            var byTime = x.DeadlineMs.CompareTo(y.DeadlineMs);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Gid, y.Gid);
        }
    }
}
