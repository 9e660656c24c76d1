using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RaftMall.Node.Security;

/// <summary>
/// The per-request HMAC of Raft traffic between members. HMAC-SHA256 with the cluster's peer secret over: a version,
/// the method, the target authority and path, a timestamp, a random nonce, and every X-Raft-* header and X-Request-ID
/// (DotNext carries the message type, sender, term, log indexes and entry counts in headers), and the node identity
/// headers (<see cref="IdentityHeaders"/>: the sender's cluster id, member id and address, the member id the request is
/// meant for). The body is not
/// signed: it streams (snapshots are large) and buffering it to hash would cost a copy of every AppendEntries;
/// on a network where someone can rewrite packets in flight, use TLS as well (see SECURITY.md).
/// </summary>
public static class PeerSignature
{
    public const string TimestampHeader = "RaftMall-Peer-Timestamp";
    public const string NonceHeader = "RaftMall-Peer-Nonce";
    public const string SignatureHeader = "RaftMall-Peer-Signature";

    /// <summary>DotNext's Raft endpoint (its default protocolPath).</summary>
    public const string ProtocolPath = "/cluster-consensus/raft";

    /// <summary>Where a node tells its identity (GET) and takes the one a leader offers (POST); signed like a Raft request.</summary>
    public const string IdentityPath = ProtocolPath + "/identity";

    /// <summary>The sender's cluster id.</summary>
    public const string ClusterIdHeader = "RaftMall-Cluster-Id";

    /// <summary>The sender's member id.</summary>
    public const string MemberIdHeader = "RaftMall-Member-Id";

    /// <summary>The sender's own address (canonical), under which the member directory binds its member id.</summary>
    public const string MemberAddressHeader = "RaftMall-Member-Address";

    /// <summary>The member id the sender's directory binds to the target address (absent when it binds none).</summary>
    public const string ToMemberIdHeader = "RaftMall-To-Member-Id";

    public static readonly string[] IdentityHeaders = [ClusterIdHeader, MemberIdHeader, MemberAddressHeader, ToMemberIdHeader];

    /// <summary>How far a request's timestamp may be from the receiver's clock, either way. Nonces are remembered twice as long.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(10);

    /// <summary>Bytes of randomness in a nonce (128 bits: collisions between honest requests never happen).</summary>
    public const int NonceBytes = 16;

    public static string Compute(byte[] key, string method, string authority, string pathAndQuery, string timestamp, string nonce,
        IEnumerable<KeyValuePair<string, string>> raftHeaders)
    {
        var text = new StringBuilder(256)
            .Append("raftmall-peer-v2\n") // v2: the identity headers are signed too
            .Append(method.ToUpperInvariant()).Append('\n')
            .Append(authority.ToLowerInvariant()).Append('\n')
            .Append(pathAndQuery).Append('\n')
            .Append(timestamp).Append('\n')
            .Append(nonce).Append('\n');
        foreach (var (name, value) in raftHeaders.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append(':').Append(value).Append('\n');
        }
        return Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Headers covered by the signature: X-Raft-*, X-Request-ID and the identity headers, names lowercased, values joined by ','.</summary>
    public static bool IsSigned(string name) =>
        name.StartsWith("X-Raft-", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Request-ID", StringComparison.OrdinalIgnoreCase)
        || IdentityHeaders.Contains(name, StringComparer.OrdinalIgnoreCase);

    public static string NowTimestamp(TimeProvider time) => time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    public static string NewNonce() => Convert.ToHexString(RandomNumberGenerator.GetBytes(NonceBytes));
}

/// <summary>
/// Puts this node's identity on every request of DotNext's "raftClient" HttpClient (votes, appends, snapshots,
/// metadata) and of the identity exchange, then signs it with the peer secret (unless the cluster runs insecure: the
/// identity headers are sent and checked anyway, they guard against wiped disks, not against intruders).
/// </summary>
public sealed class PeerSigner(NodeSecurity security, NodeIdentity identity, Consensus.ReplicatedState state, NodeSettings settings, TimeProvider time) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is { } uri)
        {
            AddIdentity(request, uri);
            if (!security.Insecure) Sign(request, uri);
        }
        return base.SendAsync(request, cancellationToken);
    }

    private void AddIdentity(HttpRequestMessage request, Uri target)
    {
        var headers = request.Headers;
        if (identity.Current is { } mine)
        {
            headers.TryAddWithoutValidation(PeerSignature.ClusterIdHeader, mine.ClusterId);
            headers.TryAddWithoutValidation(PeerSignature.MemberIdHeader, mine.MemberId);
        }
        headers.TryAddWithoutValidation(PeerSignature.MemberAddressHeader, NodeSettings.AddressKey(settings.Self.Uri));
        if (state.MemberIds.TryGetValue(NodeSettings.AddressKey(target), out var to)) headers.TryAddWithoutValidation(PeerSignature.ToMemberIdHeader, to);
    }

    private void Sign(HttpRequestMessage request, Uri uri)
    {
        var timestamp = PeerSignature.NowTimestamp(time);
        var nonce = PeerSignature.NewNonce();
        var headers = request.Headers.AsEnumerable();
        if (request.Content is not null) headers = headers.Concat(request.Content.Headers);
        var signed = headers.Where(h => PeerSignature.IsSigned(h.Key))
            .Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), string.Join(',', h.Value)));
        var signature = PeerSignature.Compute(security.PeerKey, request.Method.Method, uri.Authority, uri.PathAndQuery, timestamp, nonce, signed);
        request.Headers.TryAddWithoutValidation(PeerSignature.TimestampHeader, timestamp);
        request.Headers.TryAddWithoutValidation(PeerSignature.NonceHeader, nonce);
        request.Headers.TryAddWithoutValidation(PeerSignature.SignatureHeader, signature);
    }
}
