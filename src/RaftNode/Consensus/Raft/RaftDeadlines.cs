namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Gives each Raft message type its own deadline on the "raftClient" handler chain. DotNext 6.12 applies one RPC
/// timeout to every type; it names the type in the <c>X-Raft-Message-Type</c> request header, and it takes a request
/// that fails with an <see cref="HttpRequestException"/> and no response as "member unavailable". So a vote to a
/// black-holed peer fails after the vote deadline instead of the 5 s RPC timeout, and a leader cut off from its
/// followers sees its round fail after the append deadline. Snapshot installs and the rest keep DotNext's timeout.
/// It also notes every answer in <see cref="PeerContacts"/> for <see cref="LeaderQuorumCheck"/>.
/// </summary>
public sealed class RaftDeadlines(TimeSpan vote, TimeSpan append, PeerContacts? contacts = null) : DelegatingHandler
{
    public const string MessageTypeHeader = "X-Raft-Message-Type";

    /// <summary>The deadline of a message type, or null to leave it to DotNext.</summary>
    public TimeSpan? DeadlineOf(string? messageType) => messageType switch
    {
        "PreVote" or "RequestVote" when vote > TimeSpan.Zero => vote,
        "AppendEntries" when append > TimeSpan.Zero => append,
        _ => null,
    };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var type = request.Headers.TryGetValues(MessageTypeHeader, out var values) ? values.FirstOrDefault() : null;
        if (DeadlineOf(type) is not { } deadline) return Noted(await base.SendAsync(request, cancellationToken).ConfigureAwait(false));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        try
        {
            return Noted(await base.SendAsync(request, timeout.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException($"{type} to {request.RequestUri?.Authority} got no answer within {deadline.TotalMilliseconds:F0} ms",
                new TimeoutException());
        }
    }

    private HttpResponseMessage Noted(HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode) contacts?.Answered(response.RequestMessage?.RequestUri);
        return response;
    }
}
