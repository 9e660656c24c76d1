using System.Net;
using System.Net.Http.Json;

namespace RaftMall.Node.Security;

/// <summary>
/// The leader's side of the identity exchange (<see cref="PeerSignature.IdentityPath"/>), over DotNext's "raftClient"
/// HttpClient so that <see cref="PeerSigner"/> signs it like any Raft request.
/// </summary>
public sealed class IdentityExchange(IHttpClientFactory clients, NodeIdentity identity)
{
    /// <summary>DotNext's Raft HttpClient, on which <see cref="PeerSigner"/> sits.</summary>
    public const string ClientName = "raftClient";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>What a node said about its identity.</summary>
    public abstract record Answer
    {
        public sealed record Known(IdentityRecord Identity) : Answer;

        /// <summary>The node has no identity, belongs to another cluster, or did not answer; <see cref="Reason"/> says which.</summary>
        public sealed record Refused(string Reason) : Answer;
    }

    /// <summary>The identity of the node at <paramref name="address"/>.</summary>
    public Task<Answer> ReadAsync(Uri address, CancellationToken token) =>
        ExchangeAsync(address, offer: null, token);

    /// <summary>Hands the node at <paramref name="address"/> this cluster's id and a new member id; the node keeps them.</summary>
    public Task<Answer> OfferAsync(Uri address, CancellationToken token)
    {
        var mine = identity.Current ?? throw new InvalidOperationException("a node without an identity cannot hand one out");
        return ExchangeAsync(address, new IdentityMessage(mine.ClusterId, NodeIdentity.NewMemberId()), token);
    }

    private async Task<Answer> ExchangeAsync(Uri address, IdentityMessage? offer, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(Timeout);
        var target = new Uri(new Uri(NodeSettings.AddressKey(address)), PeerSignature.IdentityPath);
        try
        {
            using var response = offer is null
                ? await clients.CreateClient(ClientName).GetAsync(target, timeout.Token).ConfigureAwait(false)
                : await clients.CreateClient(ClientName).PostAsJsonAsync(target, offer, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var detail = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                return new Answer.Refused(response.StatusCode == HttpStatusCode.NotFound && offer is null
                    ? "it has no identity (it waits to be added)"
                    : $"it answered {(int)response.StatusCode}: {detail}");
            }
            var told = await response.Content.ReadFromJsonAsync<IdentityMessage>(timeout.Token).ConfigureAwait(false);
            return told is null ? new Answer.Refused("it answered with no identity") : new Answer.Known(new IdentityRecord(told.ClusterId, told.MemberId));
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !token.IsCancellationRequested))
        {
            return new Answer.Refused($"no answer ({e.Message})");
        }
    }
}
