using System.Threading.Channels;
using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// The coordinator's writes of many transactions in few log entries: decisions go through the group commit of every
/// write (<see cref="WriteBatcher"/>), and the phase-2 acknowledgements and failures of every branch are merged into
/// one <see cref="RecordPhaseTwo"/> per entry. While one entry replicates, the next batch fills up, so the number of
/// entries follows the replication rounds, not the transactions.
/// </summary>
public sealed partial class CommandBatcher(Proposer proposer, WriteBatcher writes, ILogger<CommandBatcher> logger) : BackgroundService
{
    /// <summary>Most phase-2 items per entry: with errors of up to 512 characters this stays well under the 1 MiB command limit.</summary>
    public const int MaxProgressPerEntry = 1024;

    /// <summary>
    /// Phase-2 records in flight at once: with one, an acknowledgement that just missed a record waits a whole
    /// replication round before its own starts; with two, the next record replicates while the previous one commits.
    /// Order does not matter between them: a branch's acknowledgement is only sent after its decision was applied.
    /// </summary>
    public const int BatchesInFlight = 2;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();

    /// <summary>Proposes <paramref name="command"/> in the next batch; its result, or null when the outcome is unknown (not leader, no commit in time).</summary>
    public async Task<MallResult?> SubmitAsync(MallCommand command)
    {
        try
        {
            return await writes.ProposeAsync(command).ConfigureAwait(false) is ProposeOutcome.Applied applied ? applied.Result : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(1, e.Message);
            return null;
        }
    }

    /// <summary>Records phase-2 progress of one branch; true once it is committed and applied.</summary>
    public async Task<bool> RecordAsync(BranchProgress item)
    {
        var pending = new Pending(item, new TaskCompletionSource<MallResult?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) return false;
        return await pending.Done.Task.ConfigureAwait(false) is { IsSuccess: true };
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, BatchesInFlight).Select(_ => DrainAsync(stoppingToken)));

    private async Task DrainAsync(CancellationToken stoppingToken)
    {
        var progress = new List<Pending>();
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            progress.Clear();
            while (progress.Count < MaxProgressPerEntry && _queue.Reader.TryRead(out var next)) progress.Add(next);
            if (progress.Count == 0) continue;
            var result = await ProposeAsync([.. progress.Select(p => p.Progress)], stoppingToken).ConfigureAwait(false);
            if (result is Rejected rejected && progress.Count > 1)
            {
                // A rejected record changes nothing; one bad item must not hold back the others.
                LogRejected(progress.Count, rejected.CodeName, rejected.Detail);
                foreach (var p in progress) p.Done.TrySetResult(await ProposeAsync([p.Progress], stoppingToken).ConfigureAwait(false));
                continue;
            }
            foreach (var p in progress) p.Done.TrySetResult(result);
        }
    }

    /// <summary>One entry with one merged record; null when the outcome is unknown.</summary>
    private async Task<MallResult?> ProposeAsync(BranchProgress[] items, CancellationToken token)
    {
        try
        {
            return await proposer.ProposeAsync(new RecordPhaseTwo(items), token).ConfigureAwait(false) is ProposeOutcome.Applied applied ? applied.Result : null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(items.Length, e.Message);
            return null;
        }
    }

    private readonly record struct Pending(BranchProgress Progress, TaskCompletionSource<MallResult?> Done);

    [LoggerMessage(Level = LogLevel.Error, Message = "phase-2 record of {Count} items rejected: {Code}: {Detail}; retrying them one by one")]
    private partial void LogRejected(int count, string code, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "coordinator write of {Count} items failed: {Reason}")]
    private partial void LogFailed(int count, string reason);
}
