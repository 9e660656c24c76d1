using System.Collections.Concurrent;
using RaftMall.Node.Api;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.Security;

/// <summary>
/// After <see cref="PeerAuthentication"/> and before DotNext sees a Raft request: the request must come from this
/// node's cluster, from the member id the replicated member directory binds to the sender's address, and be meant for
/// the member id this data directory holds (and a member id bound to one address is refused at any other). Otherwise it answers 403 <c>peer_identity_refused</c>, which DotNext's
/// sender takes as "member unavailable": the refused node neither votes nor counts toward a commit. A node without an
/// identity (it waits to be added) refuses every Raft message. Addresses the directory binds nothing to yet (a new
/// cluster before its first leader bound its members) are let through: DotNext's own rules apply to them.
/// It also serves <see cref="PeerSignature.IdentityPath"/>: a leader reads a member's identity there, and hands a node
/// it is about to add its identity.
/// </summary>
public sealed partial class PeerIdentityCheck(RequestDelegate next, NodeIdentity identity, ReplicatedState state, ILogger<PeerIdentityCheck> logger)
{
    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);
    private const int MaxRememberedRefusals = 1_000;
    private readonly ConcurrentDictionary<string, long> _lastLogged = new(StringComparer.Ordinal);
    private long _refused;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments(PeerSignature.IdentityPath))
        {
            await ServeIdentityAsync(context);
            return;
        }
        if (!request.Path.StartsWithSegments(PeerSignature.ProtocolPath))
        {
            await next(context);
            return;
        }
        if (Check(request.Headers) is { } refusal)
        {
            NoteRefusal(request.Headers, refusal);
            await Problems.Of(StatusCodes.Status403Forbidden, Contract.ProblemCodes.PeerIdentityRefused, refusal.Reason).ExecuteAsync(context);
            return;
        }
        await next(context);
    }

    /// <summary>Why a refusal happened: <see cref="Kind"/> keys the log's rate limit, <see cref="Reason"/> is the answer's detail.</summary>
    public sealed record Refusal(string Kind, string Reason);

    /// <summary>Null when a Raft request with <paramref name="headers"/> may reach DotNext; otherwise why not.</summary>
    public Refusal? Check(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (identity.Current is not { } mine)
        {
            return new("no-identity", "this node's data directory has no identity: it takes no part in votes or appends until a leader adds it as a new member");
        }
        var cluster = Single(headers, PeerSignature.ClusterIdHeader);
        if (cluster != mine.ClusterId)
        {
            return new("other-cluster", $"the sender is {(cluster is null ? "of no cluster (no identity)" : $"of cluster {cluster}")}, this node of cluster {mine.ClusterId}");
        }
        var to = Single(headers, PeerSignature.ToMemberIdHeader);
        if (to is not null && to != mine.MemberId)
        {
            return new("not-that-member", $"the request is for member {to} at this address, but this data directory is member {mine.MemberId} "
                + "(it was wiped or replaced): remove that member and add this node as a new one");
        }
        var sender = Single(headers, PeerSignature.MemberIdHeader);
        var address = Single(headers, PeerSignature.MemberAddressHeader);
        if (sender is null || address is null) return new("anonymous", "the sender names no member id or address");
        var directory = state.MemberIds;
        if (directory.TryGetValue(address, out var bound))
        {
            return bound == sender ? null : new("unknown-member", $"member {sender} is not the member at {address}: the member directory holds {bound} there");
        }
        // An address bound to nobody: a new cluster's member before the leader bound it, or a member's data directory
        // copied to another address (its id is bound elsewhere), which is refused: a member has one address.
        return directory.Values.Contains(sender, StringComparer.Ordinal)
            ? new("moved-member", $"member {sender} is bound to another address than {address}: a copy of a member's data directory does not make a new member")
            : null;
    }

    private static string? Single(IHeaderDictionary headers, string name) => headers[name] is { Count: 1 } values ? values[0] : null;

    private async Task ServeIdentityAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method))
        {
            await (identity.Current is { } mine
                ? Results.Ok(new IdentityMessage(mine.ClusterId, mine.MemberId))
                : Problems.Of(StatusCodes.Status404NotFound, "no_identity", "this node has no identity yet: it waits to be added")).ExecuteAsync(context);
            return;
        }
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await Problems.Of(StatusCodes.Status405MethodNotAllowed, "method_not_allowed", "GET or POST").ExecuteAsync(context);
            return;
        }
        var (offer, problem) = await JsonBody.ReadAsync<IdentityMessage>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
            return;
        }
        var outcome = identity.Adopt(new IdentityRecord(offer!.ClusterId, offer.MemberId));
        await (outcome switch
        {
            NodeIdentity.AdoptOutcome.Adopted => Results.Ok(offer),
            NodeIdentity.AdoptOutcome.OtherCluster => Problems.Of(StatusCodes.Status409Conflict, "other_cluster",
                $"this node's data directory belongs to cluster {identity.Current?.ClusterId}, not {offer.ClusterId}: empty it to join"),
            _ => Problems.Validation("clusterId and memberId must be ids (letters, digits, - _ . : @ ~)"),
        }).ExecuteAsync(context);
    }

    private void NoteRefusal(IHeaderDictionary headers, Refusal refusal)
    {
        // A wiped node retries every election timeout: one line per sender, message type and reason per interval, with the count.
        var count = Interlocked.Increment(ref _refused);
        var type = Single(headers, "X-Raft-Message-Type") ?? "request";
        var address = Single(headers, PeerSignature.MemberAddressHeader) ?? "an unnamed sender";
        var key = $"{address}|{type}|{refusal.Kind}";
        var now = Environment.TickCount64;
        if (_lastLogged.TryGetValue(key, out var last) && now - last < RefusalLogInterval.TotalMilliseconds) return;
        if (_lastLogged.Count >= MaxRememberedRefusals) _lastLogged.Clear();
        _lastLogged[key] = now;
        LogRefused(type, address, Single(headers, PeerSignature.MemberIdHeader) ?? "-", refusal.Reason, count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "identity: refused a {Type} from {Address} (member {MemberId}): {Reason} ({Count} refused so far)")]
    private partial void LogRefused(string type, string address, string memberId, string reason, long count);
}

/// <summary>A node's identity as the identity exchange carries it (<see cref="PeerSignature.IdentityPath"/>).</summary>
public sealed record IdentityMessage(string ClusterId, string MemberId);
