using System.Threading.Channels;
using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// Batches phase-2 acknowledgements and failures of every branch of every transaction into one
/// <see cref="RecordPhaseTwo"/> log entry: while one entry replicates, the next batch fills up, so the number of
/// entries grows with the replication rounds, not with the branches.
/// </summary>
public sealed partial class PhaseTwoRecorder(Proposer proposer, ILogger<PhaseTwoRecorder> logger) : BackgroundService
{
    private readonly Channel<(BranchProgress Item, TaskCompletionSource<bool> Done)> _queue =
        Channel.CreateUnbounded<(BranchProgress, TaskCompletionSource<bool>)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues <paramref name="item"/>; the task is true once it is committed and applied, false when it may not be.</summary>
    public Task<bool> RecordAsync(BranchProgress item)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((item, done))) done.TrySetResult(false);
        return done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(BranchProgress Item, TaskCompletionSource<bool> Done)>();
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MallLimits.MaxPhaseTwoBatch && _queue.Reader.TryRead(out var entry)) batch.Add(entry);
            var ok = await ProposeAsync([.. batch.Select(b => b.Item)], stoppingToken).ConfigureAwait(false);
            if (!ok && batch.Count > 1)
            {
                // A rejected batch changes nothing; one bad item must not hold back the others.
                foreach (var entry in batch) entry.Done.TrySetResult(await ProposeAsync([entry.Item], stoppingToken).ConfigureAwait(false));
                continue;
            }
            foreach (var entry in batch) entry.Done.TrySetResult(ok);
        }
    }

    private async Task<bool> ProposeAsync(BranchProgress[] items, CancellationToken token)
    {
        try
        {
            var outcome = await proposer.ProposeAsync(new RecordPhaseTwo(items), token).ConfigureAwait(false);
            if (outcome is ProposeOutcome.Applied { Result: Rejected rejected })
            {
                LogRejected(items.Length, rejected.CodeName, rejected.Detail);
                return false;
            }
            return outcome is ProposeOutcome.Applied;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(e.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "phase-2 record of {Count} items rejected: {Code}: {Detail}")]
    private partial void LogRejected(int count, string code, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "phase-2 record failed: {Reason}")]
    private partial void LogFailed(string reason);
}
