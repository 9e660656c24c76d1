using System.Threading.Channels;
using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// Puts the coordinator's writes of many transactions into one log entry: decisions, and the phase-2
/// acknowledgements and failures of every branch merged into one <see cref="RecordPhaseTwo"/>. While one entry
/// replicates, the next batch fills up, so the number of entries follows the replication rounds, not the
/// transactions.
/// </summary>
public sealed partial class CommandBatcher(Proposer proposer, ILogger<CommandBatcher> logger) : BackgroundService
{
    /// <summary>Most phase-2 items per entry: with errors of up to 512 characters this stays well under the 1 MiB command limit.</summary>
    public const int MaxProgressPerEntry = 1024;

    /// <summary>Most other commands (decisions) per entry.</summary>
    public const int MaxCommandsPerEntry = 512;

    /// <summary>
    /// Batches in flight at once: with one, a decision that just missed a batch waits a whole replication round before
    /// its own starts; with two, the next batch replicates while the previous one commits. Order does not matter between
    /// them: a transaction's phase-2 records are only sent after its decision was applied.
    /// </summary>
    public const int BatchesInFlight = 2;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();

    /// <summary>Proposes <paramref name="command"/> in the next batch; its result, or null when the outcome is unknown (not leader, no commit in time).</summary>
    public Task<MallResult?> SubmitAsync(MallCommand command)
    {
        var pending = new Pending(command, default, new TaskCompletionSource<MallResult?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) pending.Done.TrySetResult(null);
        return pending.Done.Task;
    }

    /// <summary>Records phase-2 progress of one branch; true once it is committed and applied.</summary>
    public async Task<bool> RecordAsync(BranchProgress item)
    {
        var pending = new Pending(null, item, new TaskCompletionSource<MallResult?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) return false;
        return await pending.Done.Task.ConfigureAwait(false) is { IsSuccess: true };
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, BatchesInFlight).Select(_ => DrainAsync(stoppingToken)));

    private async Task DrainAsync(CancellationToken stoppingToken)
    {
        var commands = new List<Pending>();
        var progress = new List<Pending>();
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            commands.Clear();
            progress.Clear();
            while (commands.Count < MaxCommandsPerEntry && progress.Count < MaxProgressPerEntry && _queue.Reader.TryRead(out var next))
            {
                (next.Command is null ? progress : commands).Add(next);
            }
            var batch = commands.Select(c => c.Command!).ToList();
            if (progress.Count > 0) batch.Add(new RecordPhaseTwo([.. progress.Select(p => p.Progress)]));
            var results = await ProposeAsync(batch, stoppingToken).ConfigureAwait(false);
            for (var i = 0; i < commands.Count; i++) commands[i].Done.TrySetResult(results?[i]);
            if (progress.Count == 0) continue;
            if (results?[^1] is Rejected rejected && progress.Count > 1)
            {
                // A rejected record changes nothing; one bad item must not hold back the others.
                LogRejected(progress.Count, rejected.CodeName, rejected.Detail);
                foreach (var p in progress) p.Done.TrySetResult((await ProposeAsync([new RecordPhaseTwo([p.Progress])], stoppingToken).ConfigureAwait(false))?[0]);
                continue;
            }
            foreach (var p in progress) p.Done.TrySetResult(results?[^1]);
        }
    }

    /// <summary>One entry for the whole batch (the command itself when it is alone); null when the outcome is unknown.</summary>
    private async Task<MallResult[]?> ProposeAsync(List<MallCommand> batch, CancellationToken token)
    {
        try
        {
            var command = batch.Count == 1 ? batch[0] : new CommandBatch([.. batch]);
            return await proposer.ProposeAsync(command, token).ConfigureAwait(false) switch
            {
                ProposeOutcome.Applied { Result: BatchResult r } when batch.Count > 1 => r.Results,
                ProposeOutcome.Applied { Result: Rejected r } when batch.Count > 1 => [.. batch.Select(_ => (MallResult)r)],
                ProposeOutcome.Applied a => [a.Result],
                _ => null,
            };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(batch.Count, e.Message);
            return null;
        }
    }

    private readonly record struct Pending(MallCommand? Command, BranchProgress Progress, TaskCompletionSource<MallResult?> Done);

    [LoggerMessage(Level = LogLevel.Error, Message = "phase-2 record of {Count} items rejected: {Code}: {Detail}; retrying them one by one")]
    private partial void LogRejected(int count, string code, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "batch of {Count} commands failed: {Reason}")]
    private partial void LogFailed(int count, string reason);
}
