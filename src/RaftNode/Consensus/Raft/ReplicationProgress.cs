namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// What each follower has confirmed it holds in the leader's current term, from the AppendEntries answers seen on the
/// "raftClient" handler chain, and the commit index those confirmations allow: the index that this leader and enough
/// followers for a majority hold. <see cref="DurableWriteAheadLog"/> never lets the leader commit past it.
/// </summary>
/// <remarks>
/// <para>
/// DotNext 6.12 decides a replication round as soon as a majority has answered and commits the median of the answers
/// received so far (<c>LeaderState.GetCommitIndex</c>: the answers sorted, the one at <c>(n - 1) / 2</c>). With every
/// member answering that is the majority's index, but a round decided on the first three answers of five takes the
/// middle one, which only two members hold: the leader's own and one follower's, while the third answered a lower
/// index (its AppendEntries carried fewer entries). The leader then commits and applies entries that a majority does
/// not hold, and a new leader elected by the other three overwrites them: replicas that applied different entries at
/// the same index (found by <c>raftmall verify --nodes 5 --nemesis all --seed 34</c> with apply traces, docs/dotnext.md).
/// Clusters of three are not affected (there the middle of two or three answers is always held by a majority).
/// </para>
/// <para>
/// A follower's answer counts only when it says the entries were replicated, in the term the request was sent in; the
/// index it confirms is the one it answers in <c>X-Raft-Last-Index</c> (the request's preceding index plus the entries
/// it carried). Answers of an older term are forgotten when the term changes.
/// </para>
/// </remarks>
public sealed class ReplicationProgress
{
    // DotNext's wire format (DotNext.AspNetCore.Cluster 6.12: AppendEntriesMessage, HeartbeatResult); the term is
    // CommittedPrefixMatch.TermHeader.
    public const string LastIndexHeader = "X-Raft-Last-Index";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _confirmed = new(StringComparer.OrdinalIgnoreCase);
    private long _term;

    /// <summary>Notes that <paramref name="member"/> (its address authority) holds the leader's log up to <paramref name="index"/> in <paramref name="term"/>.</summary>
    public void Confirm(string member, long term, long index)
    {
        lock (_lock)
        {
            if (term < _term) return;
            if (term > _term)
            {
                _term = term;
                _confirmed.Clear();
            }
            if (!_confirmed.TryGetValue(member, out var known) || index > known) _confirmed[member] = index;
        }
    }

    /// <summary>
    /// The highest index up to <paramref name="requested"/> that this leader (which holds <paramref name="requested"/>)
    /// and enough of <paramref name="followers"/> for a majority of the <paramref name="voters"/> have confirmed in
    /// <paramref name="term"/>.
    /// </summary>
    public long SafeCommitIndex(long term, long requested, int voters, IEnumerable<string> followers)
    {
        var needed = (voters / 2) + 1 - 1; // a majority, less this leader
        if (needed <= 0) return requested;
        List<long> confirmed;
        lock (_lock)
        {
            if (term != _term) return 0;
            confirmed = [.. followers.Select(f => _confirmed.GetValueOrDefault(f))];
        }
        if (confirmed.Count < needed) return 0;
        confirmed.Sort((a, b) => b.CompareTo(a));
        return Math.Min(requested, confirmed[needed - 1]);
    }

    /// <summary>Feeds <see cref="ReplicationProgress"/> from the AppendEntries answers on the Raft client chain.</summary>
    public sealed class Handler(ReplicationProgress progress) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode || request.RequestUri is null
                || !string.Equals(RaftHeaders.Value(request.Headers, RaftDeadlines.MessageTypeHeader), CommittedPrefixMatch.AppendEntriesMessage, StringComparison.Ordinal)
                || !RaftHeaders.TryParseNumber(RaftHeaders.Value(request.Headers, CommittedPrefixMatch.TermHeader), out var term)
                || !RaftHeaders.TryParseNumber(RaftHeaders.Value(response.Headers, CommittedPrefixMatch.TermHeader), out var answeredTerm) || answeredTerm != term
                || !RaftHeaders.TryParseNumber(RaftHeaders.Value(response.Headers, LastIndexHeader), out var lastIndex))
            {
                return response;
            }
            // The answer is a short enum name; read it once and hand DotNext an identical copy.
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var copy = new ByteArrayContent(body);
            foreach (var header in response.Content.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
            response.Content = copy;
            if (System.Text.Encoding.ASCII.GetString(body).StartsWith("Replicated", StringComparison.Ordinal))
            {
                progress.Confirm(request.RequestUri.Authority, term, lastIndex);
            }
            return response;
        }
    }
}
