using DotNext.Net.Cluster.Consensus.Raft;
using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>The two doors every endpoint goes through: writes into the log, and linearizable reads.</summary>
public sealed class Gateway(WriteBatcher batcher, IRaftCluster cluster, MallStateHost state, DurableWriteAheadLog log, NodeSettings settings)
{
    private readonly TimeSpan _barrierTimeout = TimeSpan.FromMilliseconds(settings.Cluster.LeaderWaitMs + settings.Cluster.WriteTimeoutMs);

    public MallStateHost State => state;

    /// <summary>Proposes <paramref name="command"/> with the request's Idempotency-Key (batched with concurrent writes) and answers with its result.</summary>
    public async Task<IResult> WriteAsync(HttpRequest request, MallCommand command, Func<MallResult, IResult> onSuccess)
    {
        var keys = request.Headers[Contract.RaftMallHeaders.IdempotencyKey];
        if (keys.Count > 1) return Problems.Validation("send one Idempotency-Key header");
        var key = keys.Count == 1 ? keys[0] : null;
        if (Validation.CheckIdempotencyKey(key) is { } keyError) return Problems.Validation(keyError);

        var outcome = await batcher.ProposeAsync(command with { IdempotencyKey = key }).WaitAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (outcome is ProposeOutcome.Applied { Index: var index }) request.HttpContext.Response.Headers[Contract.RaftMallHeaders.AppliedIndex] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return outcome switch
        {
            ProposeOutcome.Applied { Result: Rejected rejected } => Problems.Rejected(rejected),
            ProposeOutcome.Applied applied => onSuccess(applied.Result),
            ProposeOutcome.NotLeader => Problems.NotLeader(),
            ProposeOutcome.Unknown unknown => Problems.OutcomeUnknown(unknown.Reason),
            _ => throw new InvalidOperationException("unknown outcome"),
        };
    }

    /// <summary>
    /// Makes the next local read linearizable (a read barrier through the leader), unless the caller asked for
    /// <c>consistency=local</c>. Returns the problem to answer when that is not possible.
    /// </summary>
    public async Task<IResult?> ReadBarrierAsync(HttpRequest request)
    {
        var consistency = request.Query["consistency"].ToString();
        if (consistency == "local") return null;
        if (consistency is not ("" or "linearizable")) return Problems.Validation("consistency is 'linearizable' (the default) or 'local'");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted);
        timeout.CancelAfter(_barrierTimeout);
        try
        {
            // DotNext's barrier on a follower only asks the leader for its commit index, which right after an election can
            // still miss entries the previous leader committed: only a committed entry of the current term proves it
            // does not (Raft §8). So repeat the barrier until the committed prefix ends in this term.
            while (true)
            {
                await cluster.ApplyReadBarrierAsync(timeout.Token).ConfigureAwait(false);
                if (cluster.Leader is { IsRemote: false }) return null; // on the leader the barrier is a full round: already sound
                var term = cluster.Term;
                var committed = log.LastCommittedEntryIndex;
                if (committed > 0 && await log.ReadAsync(TermOfLastEntry.Instance, committed, committed, timeout.Token).ConfigureAwait(false) >= term) return null;
                await Task.Delay(TimeSpan.FromMilliseconds(5), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // No leader, leadership lost, or the leader unreachable from this follower (MemberUnavailableException).
            return Problems.NoLeader($"a linearizable read needs a leader and a quorum ({e.GetType().Name}); retry, or read with consistency=local");
        }
    }

    /// <summary>Reads the term of the last entry of a range (a snapshot counts with its own term).</summary>
    private sealed class TermOfLastEntry : DotNext.IO.Log.ILogEntryConsumer<IRaftLogEntry, long>
    {
        public static readonly TermOfLastEntry Instance = new();

        public ValueTask<long> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry> => ValueTask.FromResult(entries.Count > 0 ? entries[^1].Term : -1L);
    }
}
