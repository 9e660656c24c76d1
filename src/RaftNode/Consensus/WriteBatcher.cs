using System.Diagnostics;
using System.Threading.Channels;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.Consensus;

/// <summary>
/// Group commit for client writes: the commands that arrive while an entry replicates go together into the next
/// entry (a <see cref="CommandBatch"/>, each command with its own idempotency key), so the work of the log, the
/// followers and the flushes follows the replication rounds rather than the requests. A write that arrives when
/// nothing is in flight is proposed at once, alone.
/// </summary>
public sealed partial class WriteBatcher(Proposer proposer, NodeSettings settings, ILogger<WriteBatcher> logger) : BackgroundService
{
    /// <summary>Most commands per entry (cluster.yml maxWritesPerEntry); an entry that would encode over the command size limit is split in halves.</summary>
    private readonly int _maxCommandsPerEntry = settings.Cluster.MaxWritesPerEntry;

    /// <summary>
    /// Entries in flight at once: with one, a write that just missed an entry waits a whole round before its own starts.
    /// DotNext pipelines appends, so more entries in flight keep the replication busy: in A/B runs here (kv-put, 16 to
    /// 256 clients) four beat two by 10-80 % and eight was no better than four (docs/benchmarks.md).
    /// </summary>
    public const int EntriesInFlight = 4;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();

    /// <summary>Proposes <paramref name="command"/> in the next entry and answers what became of it.</summary>
    public Task<ProposeOutcome> ProposeAsync(MallCommand command)
    {
        if (_maxCommandsPerEntry == 1) return ProposeAloneAsync(command); // group commit off
        var pending = new Pending(command, new TaskCompletionSource<ProposeOutcome>(TaskCreationOptions.RunContinuationsAsynchronously), Activity.Current?.Context ?? default, Stopwatch.GetTimestamp());
        if (!_queue.Writer.TryWrite(pending)) pending.Done.TrySetResult(new ProposeOutcome.NotLeader()); // stopping: nothing appended
        return pending.Done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (_maxCommandsPerEntry == 1) return;
            await Task.WhenAll(Enumerable.Range(0, EntriesInFlight).Select(_ => DrainAsync(stoppingToken))).ConfigureAwait(false);
        }
        finally
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left)) left.Done.TrySetResult(new ProposeOutcome.NotLeader());
        }
    }

    private async Task DrainAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(_maxCommandsPerEntry);
        while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxCommandsPerEntry && _queue.Reader.TryRead(out var next)) batch.Add(next);
            if (batch.Count > 0) await ProposeAsync(batch, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task<ProposeOutcome> ProposeAloneAsync(MallCommand command)
    {
        using var span = NodeTelemetry.Source.StartActivity("raftmall.propose");
        NodeTelemetry.Entries.Add(1);
        NodeTelemetry.WritesPerEntry.Record(1);
        return await proposer.ProposeAsync(command, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task ProposeAsync(List<Pending> batch, CancellationToken token)
    {
        // The entry's span: propose, replicate, commit and apply of every write in it, linked to each write's span.
        using var span = batch.Any(p => p.Span != default)
            ? NodeTelemetry.Source.StartActivity(ActivityKind.Internal, default(ActivityContext), name: "raftmall.propose",
                links: [.. batch.Where(p => p.Span != default).Select(p => new ActivityLink(p.Span))])
            : null;
        span?.SetTag("raftmall.writes", batch.Count);
        foreach (var p in batch) NodeTelemetry.RecordStage("queue", Stopwatch.GetElapsedTime(p.Enqueued));
        NodeTelemetry.Entries.Add(1);
        NodeTelemetry.WritesPerEntry.Record(batch.Count);
        try
        {
            if (batch.Count == 1)
            {
                batch[0].Done.TrySetResult(await proposer.ProposeAsync(batch[0].Command, token).ConfigureAwait(false));
                return;
            }
            var outcome = await proposer.ProposeAsync(new CommandBatch([.. batch.Select(p => p.Command)]), token).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(outcome switch
                {
                    ProposeOutcome.Applied { Result: BatchResult results } applied => applied with { Result = results.Results[i] },
                    ProposeOutcome.Applied { Result: Rejected } applied => applied, // the batch itself was refused: nothing of it applied
                    _ => outcome,
                });
            }
        }
        catch (MallCodecException) when (batch.Count > 1)
        {
            // Over the size limit of one entry (large values): nothing was appended; two halves fit better.
            LogSplit(batch.Count);
            var half = batch.Count / 2;
            await ProposeAsync(batch[..half], token).ConfigureAwait(false);
            await ProposeAsync(batch[half..], token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            foreach (var p in batch) p.Done.TrySetException(e);
            if (e is OperationCanceledException) throw;
        }
    }

    private readonly record struct Pending(MallCommand Command, TaskCompletionSource<ProposeOutcome> Done, ActivityContext Span, long Enqueued);

    [LoggerMessage(Level = LogLevel.Debug, Message = "a batch of {Count} writes is over the entry size limit; proposing it in two halves")]
    private partial void LogSplit(int count);
}
