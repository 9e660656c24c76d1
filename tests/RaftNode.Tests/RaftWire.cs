using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DotNext.Net.Cluster;
using Microsoft.AspNetCore.Connections;

namespace RaftMall.Node.Tests;

/// <summary>
/// Raft requests as DotNext's HTTP transport puts them on the wire (headers of
/// DotNext.AspNetCore.Cluster's RaftHttpMessage, RequestVoteMessage and AppendEntriesMessage), sent by a raw HTTP
/// client: what a rogue process that knows the addresses could send. Optionally signed like a member (the test
/// knows the secret) to check the replay and clock-skew rules.
/// </summary>
public static class RaftWire
{
    public const string Path = "/cluster-consensus/raft";

    /// <summary>The member id DotNext derives from a member's address (how a peer names itself in X-Raft-Node-ID).</summary>
    public static string MemberId(Uri address) =>
        ClusterMemberId.FromEndPoint(new UriEndPoint(new Uri(address.GetLeftPart(UriPartial.Authority) + "/"))).ToString();

    public static HttpRequestMessage RequestVote(Uri target, string sender, long term, long lastLogIndex = long.MaxValue / 2, long lastLogTerm = long.MaxValue / 2) =>
        Message(target, "RequestVote", sender, term, ("X-Raft-Record-Index", lastLogIndex), ("X-Raft-Record-Term", lastLogTerm));

    public static HttpRequestMessage PreVote(Uri target, string sender, long term) =>
        Message(target, "PreVote", sender, term, ("X-Raft-Record-Index", long.MaxValue / 2), ("X-Raft-Record-Term", long.MaxValue / 2));

    /// <summary>An empty AppendEntries (a heartbeat) claiming leadership in <paramref name="term"/>.</summary>
    public static HttpRequestMessage Heartbeat(Uri target, string sender, long term) =>
        Message(target, "AppendEntries", sender, term, ("X-Raft-Preceding-Record-Index", 0), ("X-Raft-Preceding-Record-Term", 0),
            ("X-Raft-Commit-Index", 0), ("X-Raft-Entries-Count", 0));

    /// <summary>
    /// An AppendEntries carrying entries, encoded as DotNext's multipart writer does: one part per entry, its term and
    /// configuration flag in part headers, its payload as the part's body.
    /// </summary>
    public static HttpRequestMessage AppendEntries(Uri target, string sender, long term, long prevLogIndex, long prevLogTerm, long commitIndex,
        IReadOnlyList<(long Term, byte[] Payload)> entries)
    {
        var request = Message(target, "AppendEntries", sender, term, ("X-Raft-Preceding-Record-Index", prevLogIndex),
            ("X-Raft-Preceding-Record-Term", prevLogTerm), ("X-Raft-Commit-Index", commitIndex), ("X-Raft-Entries-Count", entries.Count));
        var body = new MultipartContent("mixed");
        foreach (var (entryTerm, payload) in entries)
        {
            var part = new ByteArrayContent(payload);
            part.Headers.TryAddWithoutValidation("X-Raft-Record-Term", entryTerm.ToString(CultureInfo.InvariantCulture));
            part.Headers.TryAddWithoutValidation("X-Raft-Configuration", "false");
            body.Add(part);
        }
        request.Content = body;
        return request;
    }

    /// <summary>An InstallSnapshot with an empty cluster configuration followed by the snapshot's bytes.</summary>
    public static HttpRequestMessage InstallSnapshot(Uri target, string sender, long term, long snapshotIndex, long snapshotTerm, byte[] snapshot)
    {
        var request = Message(target, "InstallSnapshot", sender, term, ("X-Raft-Snapshot-Index", snapshotIndex), ("X-Raft-Snapshot-Term", snapshotTerm),
            ("X-Raft-Config-Length", 0), ("X-Raft-Config-Version", 0));
        request.Content = new ByteArrayContent(snapshot);
        return request;
    }

    /// <summary>What a follower's read barrier sends the leader: its own commit index; the leader answers with its own.</summary>
    public static HttpRequestMessage Synchronize(Uri target, string sender, long commitIndex) =>
        Message(target, "Synchronize", sender, null, ("X-Raft-Commit-Index", commitIndex));

    public static HttpRequestMessage Resign(Uri target, string sender) => Message(target, "Resign", sender, null);

    public static HttpRequestMessage Metadata(Uri target, string sender) => Message(target, "Metadata", sender, null);

    private static HttpRequestMessage Message(Uri target, string type, string sender, long? term, params (string Name, long Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target, Path));
        request.Headers.Add("X-Raft-Message-Type", type);
        request.Headers.Add("X-Raft-Node-ID", sender);
        request.Headers.Add("X-Request-ID", Guid.NewGuid().ToString("N"));
        if (term is { } t) request.Headers.Add("X-Raft-Term", t.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in headers) request.Headers.Add(name, value.ToString(CultureInfo.InvariantCulture));
        return request;
    }

    /// <summary>
    /// Names the sender as a member does (node identity): its cluster id, member id and address. A node refuses a Raft
    /// request without them, and one whose member id is not the one its directory binds to that address.
    /// </summary>
    public static HttpRequestMessage Identify(HttpRequestMessage request, string clusterId, string memberId, Uri senderAddress)
    {
        request.Headers.Add("RaftMall-Cluster-Id", clusterId);
        request.Headers.Add("RaftMall-Member-Id", memberId);
        request.Headers.Add("RaftMall-Member-Address", senderAddress.GetLeftPart(UriPartial.Authority));
        return request;
    }

    /// <summary>Signs like a member holding <paramref name="secret"/> (an independent implementation of the node's scheme).</summary>
    public static HttpRequestMessage Sign(HttpRequestMessage request, string secret, DateTimeOffset at, string? nonce = null)
    {
        var timestamp = at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        nonce ??= Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var text = new StringBuilder($"raftmall-peer-v2\nPOST\n{request.RequestUri!.Authority.ToLowerInvariant()}\n{request.RequestUri.PathAndQuery}\n{timestamp}\n{nonce}\n");
        foreach (var header in request.Headers.Where(h => h.Key.StartsWith("X-Raft-", StringComparison.OrdinalIgnoreCase) || h.Key == "X-Request-ID"
                || h.Key is "RaftMall-Cluster-Id" or "RaftMall-Member-Id" or "RaftMall-Member-Address" or "RaftMall-To-Member-Id")
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: string.Join(',', h.Value))).OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            text.Append(header.Name).Append(':').Append(header.Value).Append('\n');
        }
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(text.ToString())));
        request.Headers.Add("RaftMall-Peer-Timestamp", timestamp);
        request.Headers.Add("RaftMall-Peer-Nonce", nonce);
        request.Headers.Add("RaftMall-Peer-Signature", signature);
        return request;
    }

    /// <summary>A copy of a request with the same headers (to replay it).</summary>
    public static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri);
        foreach (var header in request.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        return copy;
    }
}
