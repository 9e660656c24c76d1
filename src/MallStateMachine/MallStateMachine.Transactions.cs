namespace RaftMall.StateMachine;

// Global transactions (2PC, TCC, saga): branches, phase-1 votes, one final decision, phase-2 progress, timeouts.
// The rules apply asserts: a decision is made once and never changes; commit needs every vote yes and a log time
// before the deadline; phase-2 progress is accepted only after the decision and only for the decided direction.
public sealed partial class MallStateMachine
{
    private readonly Dictionary<string, GlobalTransaction> _transactions = new(StringComparer.Ordinal);
    private readonly SortedSet<(long DeadlineMs, string Gid)> _openByDeadline = new(DeadlineOrder.Instance);
    private readonly HashSet<string> _unfinished = new(StringComparer.Ordinal); // derived: rebuilt by Store on restore
    // Finished transactions by (finish time, gid): a total order, so every replica and restored snapshot forgets the same ones.
    private readonly SortedSet<(long FinishedAtMs, string Gid)> _finishedByAge = new(DeadlineOrder.Instance);

    /// <summary>What is wrong with the shape of <paramref name="c"/> (the node checks before proposing), or null.</summary>
    public static string? CheckBegin(BeginTransaction c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (Validation.CheckId(c.Gid, "gid") is { } gidError) return gidError;
        if (!Enum.IsDefined(c.Mode)) return "unknown transaction mode";
        if (c.TimeoutMs < MallLimits.MinTransactionTimeoutMs || c.TimeoutMs > MallLimits.MaxTransactionTimeoutMs)
        {
            return $"timeout must be between {MallLimits.MinTransactionTimeoutMs} ms and {MallLimits.MaxTransactionTimeoutMs} ms";
        }
        if (c.Branches is null || c.Branches.Length > MallLimits.MaxBranchesPerTransaction)
        {
            return $"a transaction has at most {MallLimits.MaxBranchesPerTransaction} branches";
        }
        for (var i = 0; i < c.Branches.Length; i++)
        {
            if (CheckBranch(c.Branches[i], c.Mode) is { } branchError) return branchError;
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(c.Branches[j].BranchId, c.Branches[i].BranchId, StringComparison.Ordinal)) return $"branch {c.Branches[i].BranchId} appears twice";
            }
        }
        return null;
    }

    private MallResult ApplyBeginTransaction(BeginTransaction c)
    {
        if (CheckBegin(c) is { } invalid) return Invalid(invalid);
        if (_transactions.ContainsKey(c.Gid)) return new Rejected(ErrorCode.TransactionExists, $"transaction {c.Gid} exists");

        var deadline = LogTimeMs + c.TimeoutMs;
        _events.Append(LogTimeMs, EventKind.TransactionBegun, 0, c.Gid, detail: TransactionNames.Mode(c.Mode));
        // Built-in branches are tried right here: their phase 1 is this entry.
        var branches = new TransactionBranch[c.Branches.Length];
        string? refusal = null;
        for (var i = 0; i < branches.Length; i++)
        {
            branches[i] = TransactionBranch.New(c.Branches[i]);
            if (!c.Branches[i].IsBuiltIn || refusal is not null) continue;
            branches[i] = TryBuiltIn(c.Gid, deadline, branches[i]);
            AppendVoted(c.Gid, branches[i]);
            if (branches[i].Vote == Vote.No) refusal = $"branch {branches[i].BranchId} refused: {branches[i].LastError}";
        }
        var txn = new GlobalTransaction(c.Gid, c.Mode, TransactionStatus.Open, Decision.None, "", LogTimeMs, deadline, 0, branches);
        Store(txn);
        _openByDeadline.Add((txn.DeadlineMs, txn.Gid));
        if (refusal is not null) txn = Decide(txn, Decision.Abort, refusal);
        return new TransactionResult(txn);
    }

    private MallResult ApplyRegisterBranch(RegisterBranch c)
    {
        if (!_transactions.TryGetValue(c.Gid, out var txn)) return TransactionNotFound(c.Gid);
        if (CheckBranch(c.Branch, txn.Mode) is { } branchError) return Invalid(branchError);
        if (c.Branch.IsBuiltIn) return Invalid("built-in branches (stock, order) are declared when the transaction begins");
        if (txn.IsDecided) return new Rejected(ErrorCode.TransactionDecided, $"transaction {c.Gid} is decided");
        if (txn.Branches.Length >= MallLimits.MaxBranchesPerTransaction)
        {
            return Invalid($"a transaction has at most {MallLimits.MaxBranchesPerTransaction} branches");
        }
        if (Array.Exists(txn.Branches, b => b.BranchId == c.Branch.BranchId))
        {
            return new Rejected(ErrorCode.BranchExists, $"branch {c.Branch.BranchId} exists");
        }
        txn = Store(txn with { Branches = [.. txn.Branches, TransactionBranch.New(c.Branch)] });
        _events.Append(LogTimeMs, EventKind.BranchRegistered, 0, c.Gid, detail: c.Branch.BranchId);
        return new TransactionResult(txn);
    }

    private MallResult ApplyRecordVote(RecordVote c) =>
        ApplyDecide(new DecideTransaction(c.Gid, Decision.None, "", [new BranchVote(c.BranchId, c.Vote, false, 0, "")]));

    /// <summary>Records phase-1 votes and, unless <see cref="Decision.None"/> is asked, the decision: all in one entry.</summary>
    private MallResult ApplyDecide(DecideTransaction c)
    {
        if (!Enum.IsDefined(c.Decision)) return Invalid("a decision is commit or abort");
        if (c.Reason is null || c.Reason.Length > MallLimits.MaxReasonLength) return Invalid($"reason is at most {MallLimits.MaxReasonLength} characters");
        if (c.Votes is null || c.Votes.Length > MallLimits.MaxBranchesPerTransaction) return Invalid("too many votes");
        if (!_transactions.TryGetValue(c.Gid, out var txn)) return TransactionNotFound(c.Gid);
        if (c.Decision != Decision.None && txn.Decision == c.Decision) return new TransactionResult(txn); // the same again: idempotent
        if (txn.IsDecided && c.Decision != Decision.None)
        {
            return new Rejected(ErrorCode.DecisionFinal, $"transaction {c.Gid} was decided {DecisionName(txn.Decision)}; a decision never changes");
        }

        // Check everything before changing anything: a rejected decision records no vote either.
        var branches = (TransactionBranch[])txn.Branches.Clone();
        var changed = new List<int>(c.Votes.Length);
        foreach (var vote in c.Votes)
        {
            if (vote.Vote is not (Vote.Yes or Vote.No)) return Invalid("a vote is yes or no");
            if (vote.Error is null || vote.Error.Length > MallLimits.MaxBranchErrorLength || vote.Attempts < 0) return Invalid("a vote's error or attempts are out of range");
            var index = Array.FindIndex(branches, b => b.BranchId == vote.BranchId);
            if (index < 0) return new Rejected(ErrorCode.BranchNotFound, $"no branch {vote.BranchId} in {c.Gid}");
            var branch = branches[index];
            if (branch.Spec.IsBuiltIn) return Invalid($"branch {vote.BranchId} is built in; the state machine records its vote");
            if (branch.Vote == vote.Vote) continue; // a repeated vote: idempotent
            if (branch.Vote != Vote.Pending) return new Rejected(ErrorCode.VoteFinal, $"branch {vote.BranchId} already voted");
            if (txn.IsDecided) return new Rejected(ErrorCode.TransactionDecided, $"transaction {c.Gid} is decided");
            branches[index] = branch with { Vote = vote.Vote, Refused = vote.Vote == Vote.No && vote.Refused, Attempts = vote.Attempts, LastError = vote.Error };
            changed.Add(index);
        }
        if (c.Decision == Decision.Commit && Array.Exists(branches, b => b.Vote != Vote.Yes))
        {
            return new Rejected(ErrorCode.VotesMissing, "commit needs a yes vote from every branch");
        }

        foreach (var index in changed) AppendVoted(c.Gid, branches[index]);
        txn = Store(txn with { Branches = branches });
        if (c.Decision == Decision.None) return new TransactionResult(txn);
        // A commit that arrives after the deadline is too late: the transaction times out instead, as the tick would.
        var late = c.Decision == Decision.Commit && LogTimeMs >= txn.DeadlineMs;
        return new TransactionResult(Decide(txn, late ? Decision.Abort : c.Decision, late ? "timeout" : c.Reason));
    }

    private MallResult ApplyRetry(RetryTransaction c)
    {
        if (!_transactions.TryGetValue(c.Gid, out var txn)) return TransactionNotFound(c.Gid);
        if (!txn.IsDecided) return new Rejected(ErrorCode.TransactionNotDecided, $"transaction {c.Gid} is in phase 1; there is nothing to retry yet");
        if (txn.IsFinished) return new Rejected(ErrorCode.TransactionFinished, $"transaction {c.Gid} is {TransactionNames.Status(txn.Status)}");
        var branches = Array.ConvertAll(txn.Branches, b => b.Stuck ? b with { Stuck = false } : b);
        txn = Store(txn with { Branches = branches });
        _events.Append(LogTimeMs, EventKind.TransactionRetried, 0, c.Gid);
        return new TransactionResult(txn);
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

    /// <summary>
    /// Makes the decision, then (in the same entry, after it) completes what needs no participant call: built-in
    /// branches are confirmed or cancelled, saga steps need nothing on commit, a refused saga step nothing on abort.
    /// </summary>
    private GlobalTransaction Decide(GlobalTransaction txn, Decision decision, string reason)
    {
        Require(!txn.IsDecided, "a decision is made once and never changes");
        Require(decision != Decision.Commit || Array.TrueForAll(txn.Branches, b => b.Vote == Vote.Yes), "commit only with every vote yes");
        _openByDeadline.Remove((txn.DeadlineMs, txn.Gid));
        txn = Store(txn with { Decision = decision, DecisionReason = reason, DecidedAtMs = LogTimeMs, Status = decision == Decision.Commit ? TransactionStatus.Committing : TransactionStatus.Aborting });
        _events.Append(LogTimeMs, EventKind.TransactionDecided, 0, txn.Gid, detail: DecisionName(decision) + ": " + reason);

        var branches = (TransactionBranch[])txn.Branches.Clone();
        for (var i = 0; i < branches.Length; i++)
        {
            var branch = branches[i];
            var noCall = branch.Spec.IsBuiltIn
                || (decision == Decision.Commit && txn.Mode == TransactionMode.Saga)
                || (decision == Decision.Abort && !TransactionNames.NeedsAbortCall(txn.Mode, branch));
            if (branch.Spec.IsBuiltIn) CompleteBuiltIn(txn.Gid, branch, decision);
            // Phase 2 counts its own attempts; the phase-1 error stays until phase 2 records one.
            branches[i] = noCall ? branch with { Acknowledged = true } : branch with { Attempts = 0 };
            if (noCall) _events.Append(LogTimeMs, EventKind.BranchAcknowledged, 0, txn.Gid, detail: branch.BranchId);
        }
        return FinishIfDone(Store(txn with { Branches = branches }));
    }

    private GlobalTransaction FinishIfDone(GlobalTransaction txn)
    {
        if (txn.IsFinished || !txn.IsDecided || !Array.TrueForAll(txn.Branches, b => b.Acknowledged)) return txn;
        txn = Store(txn with { Status = txn.Decision == Decision.Commit ? TransactionStatus.Committed : TransactionStatus.Aborted, FinishedAtMs = LogTimeMs });
        _events.Append(LogTimeMs, EventKind.TransactionFinished, 0, txn.Gid, detail: TransactionNames.Status(txn.Status));
        return txn;
    }

    private GlobalTransaction Store(GlobalTransaction txn)
    {
        if (_transactions.TryGetValue(txn.Gid, out var previous) && previous.IsDecided)
        {
            Require(previous.Decision == txn.Decision, "a decision never flips");
        }
        _transactions[txn.Gid] = txn;
        if (txn.IsFinished)
        {
            _unfinished.Remove(txn.Gid);
            _finishedByAge.Add((txn.FinishedAtMs, txn.Gid));
        }
        else
        {
            _unfinished.Add(txn.Gid);
        }
        return txn;
    }

    /// <summary>
    /// Forgets finished transactions past their retention, and the oldest beyond the cap. Runs before a command is
    /// dispatched, never in the middle of one, so a command sees the transactions it checked.
    /// </summary>
    private void ForgetFinishedTransactions()
    {
        while (_finishedByAge.Count > 0
            && (_finishedByAge.Count > MallLimits.MaxFinishedTransactions || _finishedByAge.Min.FinishedAtMs + MallLimits.FinishedTransactionRetentionMs < LogTimeMs))
        {
            var oldest = _finishedByAge.Min;
            _finishedByAge.Remove(oldest);
            _transactions.Remove(oldest.Gid);
        }
    }

    private void AppendVoted(string gid, TransactionBranch branch) =>
        _events.Append(LogTimeMs, EventKind.BranchVoted, 0, gid, detail: branch.BranchId + (branch.Vote == Vote.Yes ? ":yes" : ":no"));

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
