using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Holds a pre-vote from a candidate whose log is ahead of this node's until this node's own election timer has run
/// out, and then lets DotNext answer it, instead of letting DotNext refuse it a few milliseconds too early.
/// <para>
/// DotNext 6.12 grants a pre-vote only once the voter has not heard from a leader for its <em>own</em> randomized
/// election timeout, and a candidate whose pre-vote failed restarts the same timeout instead of drawing a new one. When
/// the leader dies, the survivor whose timer runs out first asks the others while their timers are still running, and
/// is refused. If its log is ahead of theirs (under load it usually is: it got the dead leader's last append and they
/// did not), none of them can win either, because it refuses them on the log check. The cluster then waits for the
/// first survivor's second timeout: about twice the election timeout to a new leader, the tail of a failover
/// (docs/dotnext.md, "Elections and timeouts").
/// </para>
/// <para>
/// This middleware sits in front of DotNext's protocol handler, after peer authentication. A pre-vote is held when this
/// node's own timer has not run out yet but will within <see cref="MaxHold"/> (the spread of the randomized timeouts,
/// upper − lower, plus a tenth of the lower one for the survivors' last leader contacts being a little apart: the
/// leader's last append reaches its followers at slightly different times), and the candidate's log is strictly ahead of
/// this node's (so this node could not win itself: holding an equal log's pre-vote would only make both stand in the
/// same term and split the vote). It is held until this node's timer has run out, and then DotNext decides as always;
/// the later RequestVote meets the same expired timer and is granted. Holding changes no answer DotNext gives, only when
/// it gives it, so it cannot affect safety: the answer is DotNext's own. A leader heard during the hold makes DotNext
/// refuse, as it would have.
/// Leader contact is noted when an AppendEntries or InstallSnapshot <em>finishes</em>, after DotNext refreshed its own
/// clock, so this node's timer as seen here never runs out before DotNext's.
/// </para>
/// </summary>
public sealed partial class PreVoteHold
{
    // DotNext's wire format (DotNext.AspNetCore.Cluster 6.12: PreVoteMessage, RequestVoteMessage), pinned by a test.
    public const string PreVoteMessage = "PreVote";
    public const string RecordIndexHeader = "X-Raft-Record-Index";
    public const string RecordTermHeader = "X-Raft-Record-Term";

    private readonly TimeProvider _time;
    private readonly Func<TimeSpan> _electionTimeout;
    private readonly TimeSpan _maxHold;
    private readonly Func<bool> _isLeader;
    private readonly Func<CancellationToken, ValueTask<(long Index, long Term)>> _lastEntry;
    private readonly ILogger _logger;
    private long _lastContact = long.MinValue; // TimeProvider timestamp; MinValue until a leader was heard

    /// <param name="time">The clock.</param>
    /// <param name="electionTimeout">This node's current randomized election timeout (DotNext redraws it at times).</param>
    /// <param name="lowerTimeout">The lower bound of the election timeouts.</param>
    /// <param name="upperTimeout">The upper bound (with the lower one, sets <see cref="MaxHold"/>).</param>
    /// <param name="isLeader">Whether this node leads (a leader's pre-vote answer is DotNext's, at once).</param>
    /// <param name="lastEntry">This node's last log entry: its index and term.</param>
    /// <param name="logger">Where holds are logged (debug).</param>
    public PreVoteHold(TimeProvider time, Func<TimeSpan> electionTimeout, TimeSpan lowerTimeout, TimeSpan upperTimeout, Func<bool> isLeader,
        Func<CancellationToken, ValueTask<(long Index, long Term)>> lastEntry, ILogger logger)
    {
        _time = time;
        _electionTimeout = electionTimeout;
        _maxHold = upperTimeout - lowerTimeout + lowerTimeout / 10;
        _isLeader = isLeader;
        _lastEntry = lastEntry;
        _logger = logger;
    }

    /// <summary>The longest hold: upper − lower election timeout + a tenth of the lower (70 ms with 200–250 ms).</summary>
    public TimeSpan MaxHold => _maxHold;

    /// <summary>Holds made (each one a pre-vote answered once this node's timer had run out).</summary>
    public long Holds => Interlocked.Read(ref _holds);

    private long _holds;

    /// <summary>A leader's AppendEntries or InstallSnapshot was just processed.</summary>
    public void NoteLeaderContact() => Interlocked.Exchange(ref _lastContact, _time.GetTimestamp());

    /// <summary>
    /// How long to hold a pre-vote from a candidate whose last entry is at <paramref name="candidateIndex"/> in
    /// <paramref name="candidateTerm"/>: zero when DotNext should answer at once.
    /// </summary>
    public async ValueTask<TimeSpan> HoldForAsync(long candidateIndex, long candidateTerm, CancellationToken token)
    {
        var contact = Interlocked.Read(ref _lastContact);
        if (contact == long.MinValue || _isLeader()) return TimeSpan.Zero;
        var silentFor = _time.GetElapsedTime(contact);
        var remaining = _electionTimeout() - silentFor;
        if (remaining <= TimeSpan.Zero || remaining > _maxHold)
        {
            LogNotHeld(silentFor.TotalMilliseconds, remaining.TotalMilliseconds);
            return TimeSpan.Zero;
        }
        var (index, term) = await _lastEntry(token).ConfigureAwait(false);
        var candidateAhead = candidateTerm > term || (candidateTerm == term && candidateIndex > index);
        if (!candidateAhead) LogNotAhead(silentFor.TotalMilliseconds, remaining.TotalMilliseconds, candidateIndex, candidateTerm, index, term);
        // One millisecond more: DotNext compares its own elapsed time with the timeout (>=).
        return candidateAhead ? remaining + TimeSpan.FromMilliseconds(1) : TimeSpan.Zero;
    }

    /// <summary>Waits out a hold that <see cref="HoldForAsync"/> asked for.</summary>
    public async Task HoldAsync(TimeSpan hold, CancellationToken token)
    {
        Interlocked.Increment(ref _holds);
        Observability.NodeTelemetry.PreVotesHeld.Add(1);
        LogHolding(hold.TotalMilliseconds);
        await Task.Delay(hold, _time, token).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "a pre-vote answered at once: no leader heard for {SilentMs:F0} ms, {RemainingMs:F0} ms left of this node's timer")]
    private partial void LogNotHeld(double silentMs, double remainingMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "a pre-vote answered at once: no leader heard for {SilentMs:F0} ms, {RemainingMs:F0} ms left of this node's timer, the candidate's last entry {CandidateIndex} in term {CandidateTerm} not ahead of {Index} in term {Term}")]
    private partial void LogNotAhead(double silentMs, double remainingMs, long candidateIndex, long candidateTerm, long index, long term);

    [LoggerMessage(Level = LogLevel.Debug, Message = "a pre-vote from a candidate ahead of this log held {HoldMs:F0} ms, until this node's election timer runs out")]
    private partial void LogHolding(double holdMs);

    /// <summary>The middleware in front of DotNext's protocol handler.</summary>
    public sealed class Middleware(RequestDelegate next, PreVoteHold hold)
    {
        public async Task InvokeAsync(HttpContext context)
        {
            var request = context.Request;
            if (!request.Path.StartsWithSegments(Security.PeerSignature.ProtocolPath))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            var type = request.Headers[RaftDeadlines.MessageTypeHeader].ToString();
            if (type is CommittedPrefixMatch.AppendEntriesMessage or CommittedPrefixMatch.InstallSnapshotMessage)
            {
                await next(context).ConfigureAwait(false);
                hold.NoteLeaderContact();
                return;
            }
            if (type == PreVoteMessage
                && RaftHeaders.TryParseNumber(request.Headers[RecordIndexHeader], out var index)
                && RaftHeaders.TryParseNumber(request.Headers[RecordTermHeader], out var term)
                && await hold.HoldForAsync(index, term, context.RequestAborted).ConfigureAwait(false) is { } wait
                && wait > TimeSpan.Zero)
            {
                await hold.HoldAsync(wait, context.RequestAborted).ConfigureAwait(false);
            }
            await next(context).ConfigureAwait(false);
        }
    }

    /// <summary>The hold for a running node: its cluster's timeouts and leader, its log's last entry.</summary>
    public static PreVoteHold For(IRaftCluster cluster, DurableWriteAheadLog log, RaftMall.Configuration.ClusterFile settings, TimeProvider time, ILogger<PreVoteHold> logger) =>
        new(time, () => cluster.ElectionTimeout, TimeSpan.FromMilliseconds(settings.ElectionTimeoutLowerMs), TimeSpan.FromMilliseconds(settings.ElectionTimeoutUpperMs),
            () => cluster.Leader is { IsRemote: false },
            async token =>
            {
                var last = log.LastEntryIndex;
                return (last, await log.TermAtAsync(last, token).ConfigureAwait(false));
            },
            logger);
}
