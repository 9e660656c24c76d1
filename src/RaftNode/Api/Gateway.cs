using RaftMall.Node.Consensus;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>The two doors every endpoint goes through: writes into the log, and linearizable reads.</summary>
public sealed class Gateway(WriteBatcher batcher, IConsensus consensus, ReplicatedState state, NodeSettings settings, TimeProvider time)
{
    private readonly TimeSpan _barrierTimeout = TimeSpan.FromMilliseconds(settings.Cluster.LeaderWaitMs + settings.Cluster.WriteTimeoutMs);

    public ReplicatedState State => state;

    /// <summary>Proposes <paramref name="command"/> with the request's Idempotency-Key (batched with concurrent writes) and answers with its result.</summary>
    public async Task<IResult> WriteAsync(HttpRequest request, MallCommand command, Func<MallResult, IResult> onSuccess)
    {
        var keys = request.Headers[Contract.RaftMallHeaders.IdempotencyKey];
        if (keys.Count > 1) return Problems.Validation("send one Idempotency-Key header");
        var key = keys.Count == 1 ? keys[0] : null;
        if (Validation.CheckIdempotencyKey(key) is { } keyError) return Problems.Validation(keyError);

        // One span per client write (its entry's span links back to it: group commit puts many writes in one entry).
        using var span = NodeTelemetry.Source.StartActivity("raftmall.write");
        span?.SetTag("raftmall.command", command.GetType().Name);
        var started = time.GetTimestamp();
        var outcome = await batcher.ProposeAsync(command with { IdempotencyKey = key }).WaitAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (outcome is ProposeOutcome.Applied { Index: var index }) request.HttpContext.Response.Headers[Contract.RaftMallHeaders.AppliedIndex] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (answer, code) = outcome switch
        {
            ProposeOutcome.Applied { Result: Rejected rejected } => (Problems.Rejected(rejected), rejected.CodeName),
            ProposeOutcome.Applied applied => (onSuccess(applied.Result), "ok"),
            ProposeOutcome.NotLeader => (Problems.NotLeader(), Contract.ProblemCodes.NotLeader),
            ProposeOutcome.Unknown unknown => (Problems.OutcomeUnknown(unknown.Reason), Contract.ProblemCodes.OutcomeUnknown),
            _ => throw new InvalidOperationException("unknown outcome"),
        };
        var tag = new KeyValuePair<string, object?>("code", code);
        NodeTelemetry.Writes.Add(1, tag);
        NodeTelemetry.WriteDuration.Record(time.GetElapsedTime(started).TotalSeconds, tag);
        span?.SetTag("raftmall.code", code);
        if (outcome is ProposeOutcome.Applied { Index: var appliedIndex }) span?.SetTag("raftmall.log.index", appliedIndex);
        return answer;
    }

    /// <summary>
    /// Makes the next local read linearizable (a read barrier, <see cref="IConsensus.ReadBarrierAsync"/>), unless the
    /// caller asked for <c>consistency=local</c>. Returns the problem to answer when that is not possible.
    /// </summary>
    public async Task<IResult?> ReadBarrierAsync(HttpRequest request)
    {
        var consistency = request.Query["consistency"].ToString();
        if (consistency == "local") return null;
        if (consistency is not ("" or "linearizable")) return Problems.Validation("consistency is 'linearizable' (the default) or 'local'");
        using var timeout = new CancellationTokenSource(_barrierTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted, timeout.Token);
        try
        {
            await consensus.ReadBarrierAsync(linked.Token).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            var why = e is NoQuorumException ? e.Message : e.GetType().Name;
            return Problems.NoLeader($"a linearizable read needs a leader and a quorum ({why}); retry, or read with consistency=local");
        }
    }
}
