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
/// <para>
/// <b>Tie-break between level candidates.</b> When two survivors' timers run out within a round trip of each other and
/// their logs are level, each grants the other's pre-vote, both raise the term, each votes for itself, and the vote
/// splits: another timeout before anyone leads. So a node that stood for election itself (sent a PreVote or
/// RequestVote, noted by <see cref="CampaignNotes"/> on the Raft client) within <see cref="CampaignWindow"/> refuses a
/// level candidate whose canonical address orders after its own, answering for DotNext as DotNext would refuse
/// (<c>RejectedByFollower</c>). Of two such candidates exactly one, the one ordered first, passes its pre-vote; the other
/// stays a follower and grants it the vote. A candidate that refused this node's own pre-vote in that campaign (its
/// timer was still running then) is never refused: this node's campaign has failed, and refusing it in turn would
/// leave nobody standing until the next timeout. A pre-vote answer cannot affect safety; liveness holds because the
/// refusal lasts only for the window after this node's own campaign, and the node ordered first never refuses the
/// other way.
/// </para>
/// </summary>
public sealed partial class PreVoteHold
{
    // DotNext's wire format (DotNext.AspNetCore.Cluster 6.12: PreVoteMessage, RequestVoteMessage), pinned by a test.
    public const string PreVoteMessage = "PreVote";
    public const string RequestVoteMessage = "RequestVote";

    /// <summary>The answer body of a granted pre-vote (<c>PreVoteResult.Accepted</c>).</summary>
    public const string Accepted = "Accepted";

    /// <summary>The answer body DotNext's candidate parses as <c>PreVoteResult.RejectedByFollower</c>.</summary>
    public const string RejectedByFollower = "RejectedByFollower";
    public const string RecordIndexHeader = "X-Raft-Record-Index";
    public const string RecordTermHeader = "X-Raft-Record-Term";

    private readonly TimeProvider _time;
    private readonly Func<TimeSpan> _electionTimeout;
    private readonly TimeSpan _maxHold;
    private readonly Func<bool> _isLeader;
    private readonly Func<CancellationToken, ValueTask<(long Index, long Term)>> _lastEntry;
    private readonly ILogger _logger;
    private readonly string _self;
    private readonly Func<long> _currentTerm;
    private readonly TimeSpan _campaignWindow;
    private long _lastContact = long.MinValue; // TimeProvider timestamp; MinValue until a leader was heard
    private long _lastCampaign = long.MinValue; // TimeProvider timestamp of this node's last PreVote or RequestVote sent
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _refusedBy = new(StringComparer.OrdinalIgnoreCase); // peer → when it refused this node's pre-vote

    /// <param name="time">The clock.</param>
    /// <param name="electionTimeout">This node's current randomized election timeout (DotNext redraws it at times).</param>
    /// <param name="lowerTimeout">The lower bound of the election timeouts.</param>
    /// <param name="upperTimeout">The upper bound (with the lower one, sets <see cref="MaxHold"/>).</param>
    /// <param name="isLeader">Whether this node leads (a leader's pre-vote answer is DotNext's, at once).</param>
    /// <param name="lastEntry">This node's last log entry: its index and term.</param>
    /// <param name="logger">Where holds are logged (debug).</param>
    /// <param name="self">This node's canonical address (the tie-break between two level candidates orders these).</param>
    /// <param name="currentTerm">This node's current term (sent with a refusal, as DotNext does).</param>
    public PreVoteHold(TimeProvider time, Func<TimeSpan> electionTimeout, TimeSpan lowerTimeout, TimeSpan upperTimeout, Func<bool> isLeader,
        Func<CancellationToken, ValueTask<(long Index, long Term)>> lastEntry, ILogger logger, string self = "", Func<long>? currentTerm = null)
    {
        _self = self;
        _currentTerm = currentTerm ?? (() => 0);
        _campaignWindow = lowerTimeout / 2;
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

    /// <summary>Pre-votes refused by the tie-break between two level candidates.</summary>
    public long TieBreaks => Interlocked.Read(ref _tieBreaks);

    private long _tieBreaks;

    /// <summary>How long after this node's own PreVote or RequestVote it refuses a level candidate that orders after it: half the lower election timeout.</summary>
    public TimeSpan CampaignWindow => _campaignWindow;

    /// <summary>A leader's AppendEntries or InstallSnapshot was just processed.</summary>
    public void NoteLeaderContact() => Interlocked.Exchange(ref _lastContact, _time.GetTimestamp());

    /// <summary>
    /// <paramref name="peer"/> (its canonical address) refused this node's pre-vote just now: this node's campaign
    /// failed there, so it must not keep that peer from standing itself.
    /// </summary>
    public void NoteRefusedBy(string peer) => _refusedBy[peer] = _time.GetTimestamp();

    /// <summary>This node's current term.</summary>
    public long CurrentTerm() => _currentTerm();

    /// <summary>This node just sent a PreVote or a RequestVote: it stands for election.</summary>
    public void NoteCampaign() => Interlocked.Exchange(ref _lastCampaign, _time.GetTimestamp());

    /// <summary>
    /// Whether to refuse, here and now, a pre-vote from <paramref name="candidate"/> (its canonical address) whose
    /// last entry is <paramref name="candidateIndex"/> in <paramref name="candidateTerm"/>: when this node stood for
    /// election within <see cref="CampaignWindow"/>, the candidate's log is level with this one (either could win) and
    /// the candidate's address orders after this node's. Of two survivors whose timers ran out together, exactly one
    /// (the lower address) then passes its pre-vote, instead of both raising the term and splitting the vote.
    /// </summary>
    public async ValueTask<bool> RefuseAsync(string candidate, long candidateIndex, long candidateTerm, CancellationToken token)
    {
        var campaign = Interlocked.Read(ref _lastCampaign);
        if (campaign == long.MinValue || _self.Length == 0 || _isLeader()) return false;
        var since = _time.GetElapsedTime(campaign);
        if (since > _campaignWindow || string.CompareOrdinal(candidate, _self) <= 0) return false;
        // The candidate refused this node's own pre-vote (its timer was still running): this campaign is over, and
        // refusing the candidate in turn would leave nobody standing until the next timeout.
        if (_refusedBy.TryGetValue(candidate, out var refusedAt) && refusedAt >= campaign) return false;
        var (index, term) = await _lastEntry(token).ConfigureAwait(false);
        if (candidateIndex != index || candidateTerm != term) return false;
        Interlocked.Increment(ref _tieBreaks);
        Observability.NodeTelemetry.PreVotesTieBroken.Add(1);
        LogTieBreak(candidate, since.TotalMilliseconds, index, term);
        return true;
    }

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

    [LoggerMessage(Level = LogLevel.Debug, Message = "a pre-vote from {Candidate}, level with this log at {Index} in term {Term}, refused: this node stood for election {SinceMs:F0} ms ago and orders first")]
    private partial void LogTieBreak(string candidate, double sinceMs, long index, long term);

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
                && RaftHeaders.TryParseNumber(request.Headers[RecordTermHeader], out var term))
            {
                if (await hold.RefuseAsync(request.Headers[Security.PeerSignature.MemberAddressHeader].ToString(), index, term, context.RequestAborted).ConfigureAwait(false))
                {
                    await RefuseAsync(context).ConfigureAwait(false);
                    return;
                }
                var wait = await hold.HoldForAsync(index, term, context.RequestAborted).ConfigureAwait(false);
                if (wait > TimeSpan.Zero) await hold.HoldAsync(wait, context.RequestAborted).ConfigureAwait(false);
            }
            await next(context).ConfigureAwait(false);
        }

        /// <summary>DotNext's own refusal, as its PreVote handler writes it: 200, this node's term, the result's name.</summary>
        private async Task RefuseAsync(HttpContext context)
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers[CommittedPrefixMatch.TermHeader] = hold.CurrentTerm().ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsync(RejectedByFollower, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends nothing itself: notes each PreVote and RequestVote this node sends, and each peer that refused one of its
    /// pre-votes (the "raftClient" handler chain; the answer stays readable for DotNext).
    /// </summary>
    public sealed class CampaignNotes(PreVoteHold hold) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var type = RaftHeaders.Value(request.Headers, RaftDeadlines.MessageTypeHeader);
            if (type is not (PreVoteMessage or RequestVoteMessage)) return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            hold.NoteCampaign();
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (type == PreVoteMessage && response.IsSuccessStatusCode && request.RequestUri is { } peer)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                if (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false) != Accepted) hold.NoteRefusedBy(NodeSettings.AddressKey(peer));
            }
            return response;
        }
    }

    /// <summary>
    /// The hold for a running node: its cluster's timeouts and leader, its log's last entry. The cluster is looked up
    /// when first needed: the hold is also in the Raft client's handler chain, which the cluster itself builds.
    /// </summary>
    public static PreVoteHold For(IServiceProvider services, RaftMall.Configuration.ClusterFile settings, string self)
    {
        var log = services.GetRequiredService<DurableWriteAheadLog>();
        var cluster = new Lazy<IRaftCluster>(services.GetRequiredService<IRaftCluster>);
        return new(services.GetRequiredService<TimeProvider>(), () => cluster.Value.ElectionTimeout,
            TimeSpan.FromMilliseconds(settings.ElectionTimeoutLowerMs), TimeSpan.FromMilliseconds(settings.ElectionTimeoutUpperMs),
            () => cluster.Value.Leader is { IsRemote: false },
            async token =>
            {
                var last = log.LastEntryIndex;
                return (last, await log.TermAtAsync(last, token).ConfigureAwait(false));
            },
            services.GetRequiredService<ILogger<PreVoteHold>>(), self, () => ((IPersistentState)log).Term);
    }
}
