using System.Diagnostics;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// <see cref="IConsensus"/> on DotNext's Raft: proposals are log entries that carry a <see cref="Proposal"/> as context,
/// reads go through DotNext's read barrier under <see cref="ReadRule"/>, leadership and membership are DotNext's, named
/// by the <see cref="MemberDirectory"/>.
/// </summary>
public sealed partial class RaftConsensus : IConsensus, IReadBarrier
{
    private readonly IRaftCluster _cluster;
    private readonly DurableWriteAheadLog _log;
    private readonly MallStateHost _host;
    private readonly NodeSettings _settings;
    private readonly MemberDirectory _directory;
    private readonly TimeProvider _time;
    private readonly ILogger<RaftConsensus> _logger;
    private readonly TimeSpan _writeTimeout;
    private readonly SilentPeers? _silent;
    private readonly PeerContacts? _contacts;
    private TaskCompletionSource _leaderChanged = NewSignal();

    public RaftConsensus(
        IRaftCluster cluster, DurableWriteAheadLog log, MallStateHost host, NodeSettings settings, MemberDirectory directory, TimeProvider time,
        ILogger<RaftConsensus> logger, SilentPeers? silent = null, PeerContacts? contacts = null)
    {
        _silent = silent;
        _contacts = contacts;
        _directory = directory;
        _cluster = cluster;
        _log = log;
        _host = host;
        _settings = settings;
        _time = time;
        _logger = logger;
        _writeTimeout = TimeSpan.FromMilliseconds(settings.Cluster.WriteTimeoutMs);
        cluster.LeaderChanged += (_, leader) =>
        {
            if (leader is not null) contacts?.LeaderKnown();
            Interlocked.Exchange(ref _leaderChanged, NewSignal()).TrySetResult();
        };
    }

    public ClusterNode? Leader => _cluster.Leader is { } leader ? (leader.IsRemote ? _directory.NodeAt(leader.EndPoint) : _settings.Self) : null;

    public IReadOnlyList<ClusterNode> Members => _directory.Members(_cluster);

    public bool IsLeader => _cluster.Leader is { IsRemote: false };

    // Not DotNext's member status: a follower sends nothing, so the status it last saw of a member (Unavailable after
    // a campaign it lost) can be stale for as long as it follows, and a healthy follower in the next election then
    // bounced writes it would have forwarded a moment later (`raftmall bench failover --fault partition`: every other
    // trial ~250 ms slower, the clients sent on to the cut-off node). Only a node that resigned for want of a majority,
    // and has heard from no majority since, counts as cut off.
    public bool ReachesMajority => _contacts?.CutOff(_cluster.Members.Count) != true;

    long IReadBarrier.Term => _cluster.Term;

    // The leadership token is cancelled outside the leader state and before a new leader's first commit.
    bool IReadBarrier.IsUnconfirmedLeader => IsLeader && _cluster.LeadershipToken.IsCancellationRequested;

    // DotNext cancels the leadership token when leadership ends; a leader is ready once it committed an entry of its term.
    public CancellationToken? Leadership => IsLeader && !_cluster.LeadershipToken.IsCancellationRequested ? _cluster.LeadershipToken : null;

    public Task NextLeaderChange => Volatile.Read(ref _leaderChanged).Task;

    public ConsensusStatus Status() => new(
        _cluster.Leader switch
        {
            null => "candidate",
            { IsRemote: false } => "leader",
            _ => "follower",
        },
        _cluster.Term, Leader, _cluster.AuditTrail.LastCommittedEntryIndex, _log.LastAppliedIndex, _host.SnapshotIndex,
        _host.SnapshotsTaken, _host.SnapshotsRestored, _log.FollowerFlushes, _log.DurableFollowerAppends);

    public async Task<ProposeOutcome> ProposeAsync(MallCommand command, CancellationToken token)
    {
        var proposal = new Proposal(command);
        using var timeout = new CancellationTokenSource(_writeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        var payload = proposal.Encode();
        var proposed = Stopwatch.GetTimestamp();
        try
        {
            await _cluster.ReplicateAsync(payload, proposal, linked.Token).ConfigureAwait(false);
        }
        catch (NotLeaderException e) when (e.InnerException is null)
        {
            return new ProposeOutcome.NotLeader(); // thrown before anything was appended
        }
        catch (NotLeaderException)
        {
            LogOutcomeUnknown("leadership was lost while waiting for commit");
            return new ProposeOutcome.Unknown("leadership was lost while the write waited for commit; it may still commit");
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            LogOutcomeUnknown("timed out waiting for commit");
            return new ProposeOutcome.Unknown($"the write did not commit within {_writeTimeout.TotalMilliseconds:F0} ms; it may still commit");
        }
        RecordStages(proposal, proposed);
        return proposal.Result is { } result
            ? new ProposeOutcome.Applied(result, proposal.AppliedIndex)
            : new ProposeOutcome.Unknown("the entry was applied but its result did not reach this request");
    }

    public async Task ReadBarrierAsync(CancellationToken token)
    {
        try
        {
            await ReadRule.WaitAsync(this, _time, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // No leader, leadership lost, or the leader unreachable from this follower (MemberUnavailableException).
            throw new NoQuorumException(e.GetType().Name, e); // the type is the answer's detail; the inner exception has DotNext's words
        }
    }

    Task IReadBarrier.BarrierAsync(CancellationToken token) => _cluster.ApplyReadBarrierAsync(token).AsTask();

    async ValueTask<long> IReadBarrier.TermOfLastCommittedAsync(CancellationToken token)
    {
        var committed = _log.LastCommittedEntryIndex;
        return committed > 0 ? await _log.TermAtAsync(committed, token).ConfigureAwait(false) : -1L;
    }

    private static void RecordStages(Proposal proposal, long proposed)
    {
        if (proposal.ApplyStarted == 0) return; // applied with another context (a retried entry): no stages to tell
        NodeTelemetry.RecordStage("commit", Stopwatch.GetElapsedTime(proposed, proposal.ApplyStarted));
        NodeTelemetry.RecordStage("apply", Stopwatch.GetElapsedTime(proposal.ApplyStarted, proposal.ApplyFinished));
        NodeTelemetry.RecordStage("handoff", Stopwatch.GetElapsedTime(proposal.ApplyFinished));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "write outcome unknown: {Reason}")]
    private partial void LogOutcomeUnknown(string reason);
}
