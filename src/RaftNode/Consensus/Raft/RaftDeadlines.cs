namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Gives each Raft message type its own deadline on the "raftClient" handler chain. DotNext 6.12 applies one RPC
/// timeout to every type; it names the type in the <c>X-Raft-Message-Type</c> request header, and it takes a request
/// that fails with an <see cref="HttpRequestException"/> and no response as "member unavailable". So a vote to a
/// black-holed peer fails after the vote deadline instead of the 5 s RPC timeout.
/// <para>
/// Empty AppendEntries (heartbeats; <c>X-Raft-Entries-Count: 0</c>) get the heartbeat deadline. A new leader's first
/// round is always empty, and the live followers reject it (its next index already counts the no-op), which DotNext
/// counts as "answered, not replicated"; such a round is decided only when the remaining members answer or are found
/// unavailable, and rounds run one at a time. So one frozen or black-holed member kept a new leader from committing
/// anything until DotNext's RPC timeout, and the quorum check resigned it before that: no leader ever committed
/// while a member was frozen. A deadline on heartbeats alone never cancels a request that carries entries (or their
/// flush) under load. Appends with entries get the append deadline, off unless set (<c>raftAppendTimeoutMs</c>).
/// </para>
/// It also notes every answer in <see cref="PeerContacts"/> for <see cref="LeaderQuorumCheck"/> (and every snapshot transfer
/// while it lasts), and every request that
/// got no answer in <see cref="SilentPeers"/>: a request to a peer that is silent fails at once, before any deadline.
/// </summary>
public sealed class RaftDeadlines(TimeSpan vote, TimeSpan heartbeat, TimeSpan append, PeerContacts? contacts = null, SilentPeers? silent = null) : DelegatingHandler
{
    public const string MessageTypeHeader = "X-Raft-Message-Type";

    /// <summary>DotNext's header with the number of entries an AppendEntries carries.</summary>
    public const string EntriesCountHeader = "X-Raft-Entries-Count";

    /// <summary>The deadline of a message type (an AppendEntries with <paramref name="entries"/>), or null to leave it to DotNext.</summary>
    public TimeSpan? DeadlineOf(string? messageType, long? entries = null) => messageType switch
    {
        "PreVote" or "RequestVote" when vote > TimeSpan.Zero => vote,
        "AppendEntries" when entries == 0 && heartbeat > TimeSpan.Zero => heartbeat,
        "AppendEntries" when append > TimeSpan.Zero => append,
        _ => null,
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var type = RaftHeaders.Value(request.Headers, MessageTypeHeader);
        var peer = request.RequestUri;
        // Only DotNext's own messages fail at once: RaftMall's other requests on this client (the identity exchange of
        // a member being added) are no part of a round, and go out as usual.
        if (type is not null && silent is not null && peer is not null && silent.Refuses(peer, out var silentFor))
        {
            throw new HttpRequestException(
                $"{type} to {peer.Authority} not sent: the member has not answered for {silentFor.TotalMilliseconds:F0} ms", new TimeoutException());
        }
        long? entries = RaftHeaders.TryParseNumber(RaftHeaders.Value(request.Headers, EntriesCountHeader), out var count) ? count : null;
        var deadline = DeadlineOf(type, entries);
        // A timer only for a request with a deadline of ours: appends with entries, the hot path, have none by default.
        using var timeout = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var transfer = type == CommittedPrefixMatch.InstallSnapshotMessage && peer is not null ? contacts?.Transferring(peer) : null;
        if (deadline is { } limit) timeout!.CancelAfter(limit);
        try
        {
            return Noted(await base.SendAsync(request, timeout?.Token ?? cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (timeout is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            var what = $"{type} to {peer?.Authority} got no answer within {deadline?.TotalMilliseconds:F0} ms";
            if (peer is not null) silent?.Missed(peer, what);
            throw new HttpRequestException(what, new TimeoutException());
        }
        catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
        {
            if (peer is not null) silent?.Missed(peer, $"{type}: {e.Message}");
            throw;
        }
    }

    private HttpResponseMessage Noted(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) contacts?.Answered(response.RequestMessage?.RequestUri);
        return response;
    }
}
