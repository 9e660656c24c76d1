using System.Collections.Concurrent;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// When each peer last answered a Raft request of this node (any message type, any successful status), and which
/// peers are receiving a snapshot from it right now.
/// <para>
/// A snapshot transfer counts as contact while it lasts: DotNext sends a member one request at a time, and an
/// InstallSnapshot of tens of megabytes, which the follower also writes and loads before it answers, takes longer than
/// the step-down window. Without this, a leader whose majority needed a follower to install a snapshot resigned
/// after each window, was elected again, sent the snapshot again and resigned again: no write committed until another
/// member came back (found by `raftmall bench failover --trials 50` on 2026-12-03, trial 50: the follower killed in
/// trial 49 came back needing the snapshot the others had just compacted their logs into, and then the leader was
/// killed). A transfer to a member that cannot be reached ends with DotNext's request timeout (5 s), and with it this
/// contact.
/// </para>
/// </summary>
public sealed class PeerContacts(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, long> _lastAnswer = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _transfers = new(StringComparer.OrdinalIgnoreCase);
    private long _lostMajorityAt; // when the quorum check last resigned this node; 0 once a leader is known again

    public void Answered(Uri? peer)
    {
        if (peer is not null) _lastAnswer[peer.Authority] = time.GetTimestamp();
    }

    /// <summary>A snapshot transfer to <paramref name="peer"/> begins; it counts as contact until the result is disposed.</summary>
    public IDisposable Transferring(Uri peer)
    {
        _transfers.AddOrUpdate(peer.Authority, 1, (_, n) => n + 1);
        return new Transfer(this, peer.Authority);
    }

    /// <summary>The quorum check resigned this node: no majority answered it within the step-down window.</summary>
    public void LostMajority() => Interlocked.Exchange(ref _lostMajorityAt, time.GetTimestamp());

    /// <summary>A leader is known again (another, or this node elected): nothing says this node is cut off any more.</summary>
    public void LeaderKnown() => Interlocked.Exchange(ref _lostMajorityAt, 0);

    /// <summary>
    /// Whether this node lost its majority as leader (<see cref="LostMajority"/>) and fewer than a majority of the
    /// <paramref name="members"/> (itself included) answered any of its requests since: a node cut off by a partition,
    /// which will learn of no leader until the cut heals. A follower that never led, or heard of a leader since, is
    /// not cut off by this measure (it sends nothing while it follows, so silence would say nothing).
    /// </summary>
    public bool CutOff(int members)
    {
        var since = Interlocked.Read(ref _lostMajorityAt);
        return since != 0 && (1 + _lastAnswer.Values.Count(at => at > since)) * 2 <= members;
    }

    /// <summary>Whether <paramref name="peer"/> answered within <paramref name="window"/> of now, or is receiving a snapshot.</summary>
    public bool AnsweredWithin(Uri peer, TimeSpan window) =>
        (_transfers.TryGetValue(peer.Authority, out var transfers) && transfers > 0)
        || (_lastAnswer.TryGetValue(peer.Authority, out var at) && time.GetElapsedTime(at) <= window);

    private sealed class Transfer(PeerContacts contacts, string authority) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) contacts._transfers.AddOrUpdate(authority, 0, (_, n) => n - 1);
        }
    }
}

/// <summary>
/// The leader's side of etcd's CheckQuorum: a leader that has heard from no majority for
/// <see cref="Configuration.ClusterFile.EffectiveLeaderStepDownMs"/> resigns. DotNext's leader steps down only when a
/// replication round fails, and a round to a black-holed or frozen peer fails only at DotNext's RPC timeout (5 s), so
/// a leader cut off by a partition would keep accepting writes it cannot commit, and its clients would wait, long after
/// the majority elected another. Unlike an AppendEntries deadline (<see cref="RaftDeadlines"/>), this cancels no
/// request: one slow round does not cost the term, only a window with no answer from a majority does.
/// </summary>
public sealed partial class LeaderQuorumCheck(
    IRaftCluster cluster, PeerContacts contacts, NodeSettings settings, TimeProvider time, ILogger<LeaderQuorumCheck> logger) : BackgroundService
{
    private readonly TimeSpan _window = TimeSpan.FromMilliseconds(settings.Cluster.EffectiveLeaderStepDownMs);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.Cluster.HeartbeatIntervalMs), time);
        long? leaderSince = null;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (cluster.Leader is not { IsRemote: false } self)
                {
                    leaderSince = null;
                    continue;
                }
                leaderSince ??= time.GetTimestamp();
                if (time.GetElapsedTime(leaderSince.Value) < _window) continue; // give a new leader's first rounds a window too
                var members = cluster.Members.Count;
                var answered = 1 + cluster.Members.Count(m => m.IsRemote && m.EndPoint is Microsoft.AspNetCore.Connections.UriEndPoint peer && contacts.AnsweredWithin(peer.Uri, _window));
                if (answered > members / 2) continue;
                LogResigning(answered, members, _window.TotalMilliseconds, cluster.Term);
                leaderSince = null;
                contacts.LostMajority();
                await ResignAsync(self, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>
    /// Resigns through the local member, whose resign reaches only this node's own state (never another leader's). The
    /// request goes to this node over HTTP, and DotNext cancels pending requests while it changes state, so the answer
    /// can be lost although the resign happened: whatever it throws is logged, never fatal to the node.
    /// </summary>
    private async Task ResignAsync(DotNext.Net.Cluster.IClusterMember self, CancellationToken stoppingToken)
    {
        try
        {
            await self.ResignAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            LogResignUnanswered(e, cluster.Leader is { IsRemote: false });
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "the resign request was not answered; still leader: {StillLeader}")]
    private partial void LogResignUnanswered(Exception error, bool stillLeader);

    [LoggerMessage(Level = LogLevel.Warning, Message = "only {Answered} of {Members} members answered this leader within {WindowMs} ms: stepping down from term {Term}")]
    private partial void LogResigning(int answered, int members, double windowMs, long term);
}
