using System.Diagnostics;
using RaftMall.Node.Consensus;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// The transaction coordinator, on the leader only. Phase 1 calls every HTTP branch (TCC try / 2PC prepare in
/// parallel, saga actions in order); the decision and the phase-1 outcomes are committed in one log entry before any
/// phase-2 call; phase 2 calls confirm/commit or cancel/rollback (saga: compensations in reverse order) and retries
/// each branch with capped exponential backoff until it acknowledges, recording acknowledgements in batched entries.
/// Every node runs the loop; whoever leads drives. A new leader resumes every unfinished transaction from the log,
/// re-sending the idempotent try/prepare of undecided ones: an election does not abort anything, only a deadline does.
/// </summary>
public sealed partial class TransactionDriver(
    IConsensus consensus, ReplicatedState state, ParticipantCaller caller, CommandBatcher batcher,
    NodeSettings settings, TimeProvider time, ILogger<TransactionDriver> logger) : BackgroundService
{
    /// <summary>How often the leader looks for unfinished transactions that nobody drives (a new leader's first look resumes its predecessor's).</summary>
    public const int ScanIntervalMs = 500;

    private readonly LeaderRuns<LeaderRun> _runs = new((gid, cancellation) => new LeaderRun(gid, cancellation));
    private CancellationToken _stopping;

    /// <summary>Starts driving <paramref name="gid"/> now when this node leads (the begin endpoint calls it; the scan would find it too).</summary>
    public void Start(string gid)
    {
        if (consensus.Leadership is { } leadership) StartRun(gid, leadership);
    }

    /// <summary>An operator's retry: the transaction's waiting branches are called again now, their backoff reset.</summary>
    public void Retry(string gid)
    {
        if (_runs.TryGet(gid, out var run)) run.WakeUp();
        else Start(gid);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var resumedFor = CancellationToken.None;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(ScanIntervalMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (consensus.Leadership is not { } leadership) continue;
            try
            {
                if (leadership != resumedFor)
                {
                    // Apply everything the previous leaders committed before deciding what is unfinished.
                    await consensus.ReadBarrierAsync(leadership).ConfigureAwait(false);
                    resumedFor = leadership;
                    var unfinished = state.Read(s => s.UnfinishedTransactionIds());
                    if (unfinished.Count > 0)
                    {
                        var term = consensus.Status().Term;
                        LogResuming(unfinished.Count, term);
                    }
                }
                foreach (var gid in state.Read(s => s.UnfinishedTransactionIds())) StartRun(gid, leadership);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogScanFailed(e.InnerException is { } inner ? $"{e.Message}: {inner.Message}" : e.Message);
            }
        }
    }

    private void StartRun(string gid, CancellationToken leadership) =>
        _runs.Start(gid, DriveAsync, (key, e) => LogRunFailed(key, e.Message), leadership, _stopping);

    private async Task DriveAsync(LeaderRun run)
    {
        while (true)
        {
            run.Token.ThrowIfCancellationRequested();
            var txn = state.Read(s => s.GetTransaction(run.Key));
            if (txn is null || txn.IsFinished) return;
            if (txn.IsDecided)
            {
                using (Span("raftmall.txn.phase2", txn))
                {
                    await PhaseTwoAsync(txn, run).ConfigureAwait(false);
                }
                continue; // re-read: finished, or a record did not commit and is done again
            }
            DecideTransaction decision;
            using (Span("raftmall.txn.phase1", txn))
            {
                decision = await PhaseOneAsync(txn, run).ConfigureAwait(false);
            }
            // Decisions of many transactions share a log entry.
            MallResult? decided;
            using (var span = Span("raftmall.txn.decide", txn))
            {
                span?.SetTag("raftmall.decision", decision.Decision.ToString().ToLowerInvariant());
                decided = await batcher.SubmitAsync(decision).ConfigureAwait(false);
            }
            switch (decided)
            {
                case null when !consensus.IsLeader:
                    return; // the next leader resumes from the log
                case null:
                    await Task.Delay(TimeSpan.FromMilliseconds(settings.Cluster.TxnRetryInitialMs), time, run.Token).ConfigureAwait(false);
                    break;
                case Rejected { Code: not ErrorCode.DecisionFinal } rejected:
                    LogDecisionRejected(run.Key, rejected.CodeName, rejected.Detail);
                    await Task.Delay(TimeSpan.FromMilliseconds(settings.Cluster.TxnRetryMaxMs), time, run.Token).ConfigureAwait(false);
                    break;
            }
        }
    }

    private static Activity? Span(string name, GlobalTransaction txn)
    {
        var span = NodeTelemetry.Source.StartActivity(name);
        span?.SetTag("raftmall.gid", txn.Gid);
        span?.SetTag("raftmall.mode", TransactionNames.Mode(txn.Mode));
        return span;
    }

    /// <summary>Runs phase 1 and returns the decision to propose, with every outcome learned.</summary>
    private async Task<DecideTransaction> PhaseOneAsync(GlobalTransaction txn, LeaderRun run)
    {
        var votes = new List<BranchVote>();
        var remaining = DateTimeOffset.FromUnixTimeMilliseconds(txn.DeadlineMs) - time.GetUtcNow();
        using var deadline = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, time);
        using var phase = CancellationTokenSource.CreateLinkedTokenSource(run.Token, deadline.Token);
        if (!Array.Exists(txn.Branches, b => b.Vote == Vote.No))
        {
            var pending = Array.FindAll(txn.Branches, b => b.Vote == Vote.Pending);
            if (txn.Mode == TransactionMode.Saga)
            {
                foreach (var branch in pending) // actions in order; the first that fails ends phase 1
                {
                    if (await TryBranchAsync(txn, branch, phase) is not { } vote) break;
                    votes.Add(vote);
                    if (vote.Vote == Vote.No) break;
                }
            }
            else
            {
                var results = await Task.WhenAll(pending.Select(b => TryBranchAsync(txn, b, phase))).ConfigureAwait(false);
                votes.AddRange(results.Where(v => v is not null).Select(v => v!.Value));
            }
        }
        run.Token.ThrowIfCancellationRequested(); // leadership lost: decide nothing, the next leader resumes phase 1

        var yes = votes.Where(v => v.Vote == Vote.Yes).Select(v => v.BranchId).ToHashSet(StringComparer.Ordinal);
        if (Array.TrueForAll(txn.Branches, b => b.Vote == Vote.Yes || yes.Contains(b.BranchId)))
        {
            return new DecideTransaction(txn.Gid, Decision.Commit, "every branch succeeded", [.. votes]);
        }
        var no = votes.FirstOrDefault(v => v.Vote == Vote.No);
        var firstNo = Array.Find(txn.Branches, b => b.Vote == Vote.No);
        var reason = no.BranchId is not null ? $"branch {no.BranchId}: {no.Error}"
            : firstNo is not null ? $"branch {firstNo.BranchId}: {firstNo.LastError}"
            : "timeout";
        return new DecideTransaction(txn.Gid, Decision.Abort, Clip(reason, MallLimits.MaxReasonLength), [.. votes]);
    }

    /// <summary>
    /// Calls a branch's try/prepare/action until it answers yes or a definite no, or the deadline passes (a no with
    /// an unknown outcome). Null when phase 1 ended early because another branch said no.
    /// </summary>
    private async Task<BranchVote?> TryBranchAsync(GlobalTransaction txn, TransactionBranch branch, CancellationTokenSource phase)
    {
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(txn.DeadlineMs);
        var backoff = settings.Cluster.TxnRetryInitialMs;
        var lastError = "";
        for (var attempt = 1; ; attempt++)
        {
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero || phase.IsCancellationRequested)
            {
                return remaining <= TimeSpan.Zero ? new BranchVote(branch.BranchId, Vote.No, false, attempt - 1, Clip("timeout; last error: " + lastError)) : null;
            }
            CallResult result;
            try
            {
                result = await caller.CallAsync(txn, branch.Spec, Decision.None, attempt, Min(CallTimeout(branch.Spec), remaining), phase.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                continue; // the loop's first check tells the deadline from an early end
            }
            switch (result.Outcome)
            {
                case CallOutcome.Success:
                    return new BranchVote(branch.BranchId, Vote.Yes, false, attempt, "");
                case CallOutcome.Refused or CallOutcome.Rejected:
                    if (txn.Mode != TransactionMode.Saga) await phase.CancelAsync().ConfigureAwait(false); // no need to wait for the others
                    return new BranchVote(branch.BranchId, Vote.No, true, attempt, Clip(result.Error));
            }
            lastError = result.Error;
            try
            {
                await Task.Delay(Min(TimeSpan.FromMilliseconds(backoff), deadline - time.GetUtcNow()), time, phase.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // checked at the top of the loop
            }
            backoff = Math.Min(backoff * 2, settings.Cluster.TxnRetryMaxMs);
        }
    }

    private async Task PhaseTwoAsync(GlobalTransaction txn, LeaderRun run)
    {
        var outstanding = Array.FindAll(txn.Branches, b => !b.Acknowledged);
        if (txn.Mode == TransactionMode.Saga && txn.Decision == Decision.Abort)
        {
            // Compensations in reverse order: one begins only after the later step's compensation succeeded.
            for (var i = outstanding.Length - 1; i >= 0; i--)
            {
                if (!await DeliverAsync(txn, outstanding[i], run).ConfigureAwait(false)) return;
            }
            return;
        }
        await Task.WhenAll(outstanding.Select(b => DeliverAsync(txn, b, run))).ConfigureAwait(false);
    }

    /// <summary>Calls a branch's phase-2 operation until it acknowledges; true once the acknowledgement is committed.</summary>
    private async Task<bool> DeliverAsync(GlobalTransaction txn, TransactionBranch branch, LeaderRun run)
    {
        var step = 0;
        for (var attempt = branch.Attempts + 1; ; attempt++)
        {
            var wake = run.WakeSignal;
            var result = await caller.CallAsync(txn, branch.Spec, txn.Decision, attempt, CallTimeout(branch.Spec), run.Token).ConfigureAwait(false);
            if (result.Outcome == CallOutcome.Success)
            {
                return await batcher.RecordAsync(new BranchProgress(txn.Gid, branch.BranchId, txn.Decision, true, attempt, "", false)).ConfigureAwait(false);
            }
            var stuck = attempt >= settings.Cluster.TxnStuckAfterAttempts;
            if (stuck && !branch.Stuck && attempt == settings.Cluster.TxnStuckAfterAttempts) LogStuck(txn.Gid, branch.BranchId, attempt, result.Error);
            _ = batcher.RecordAsync(new BranchProgress(txn.Gid, branch.BranchId, txn.Decision, false, attempt, Clip(result.Error), stuck));
            var delay = TimeSpan.FromMilliseconds(Math.Min((double)settings.Cluster.TxnRetryInitialMs * Math.Pow(2, step), settings.Cluster.TxnRetryMaxMs));
            step++;
            if (await Task.WhenAny(Task.Delay(delay, time, run.Token), wake).ConfigureAwait(false) == wake) step = 0;
        }
    }

    private TimeSpan CallTimeout(BranchSpec branch) => TimeSpan.FromMilliseconds(branch.TimeoutMs > 0 ? branch.TimeoutMs : settings.Cluster.TxnCallTimeoutMs);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.Zero ? TimeSpan.Zero : a) : (b < TimeSpan.Zero ? TimeSpan.Zero : b);

    private static string Clip(string text, int max = MallLimits.MaxBranchErrorLength) => text.Length <= max ? text : text[..(max - 1)] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "leader of term {Term}: resuming {Count} unfinished transactions from the log")]
    private partial void LogResuming(int count, long term);

    [LoggerMessage(Level = LogLevel.Warning, Message = "transaction scan failed: {Reason}")]
    private partial void LogScanFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "transaction {Gid}: driver failed, it is resumed by the next scan: {Reason}")]
    private partial void LogRunFailed(string gid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "transaction {Gid}: decision rejected: {Code}: {Detail}")]
    private partial void LogDecisionRejected(string gid, string code, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "transaction {Gid}: branch {Branch} is stuck after {Attempts} phase-2 attempts: {Error}")]
    private partial void LogStuck(string gid, string branch, int attempts, string error);
}
