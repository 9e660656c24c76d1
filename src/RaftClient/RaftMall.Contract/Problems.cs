namespace RaftMall.Contract;

/// <summary>An RFC 7807 problem body with RaftMall's machine-readable code.</summary>
/// <param name="Status">The HTTP status of the answer; null when the body omits it.</param>
/// <param name="Title">A short, human-readable summary of the problem type (e.g. Conflict).</param>
/// <param name="Detail">What went wrong with this request, for people (e.g. which field and why).</param>
/// <param name="Code">The machine-readable reason (e.g. insufficient_stock); see <see cref="ProblemCodes"/> and docs/api.md.</param>
public sealed record ProblemBody(int? Status, string? Title, string? Detail, string? Code);

/// <summary>
/// The <c>code</c> of a problem answer that the node itself gives (the state machine's refusals add their own, such
/// as <c>insufficient_stock</c>; docs/api.md lists them all).
/// </summary>
public static class ProblemCodes
{
    /// <summary>400: a field, parameter or header of the request is invalid.</summary>
    public const string Validation = "validation";

    /// <summary>400: the body is not the JSON the endpoint reads.</summary>
    public const string MalformedJson = "malformed_json";

    /// <summary>503: the write was appended but its fate is not known yet; retry with the same Idempotency-Key.</summary>
    public const string OutcomeUnknown = "outcome_unknown";

    /// <summary>503: no leader was known within the wait; nothing was applied.</summary>
    public const string NoLeader = "no_leader";

    /// <summary>503: leadership moved before the write was appended; nothing was applied.</summary>
    public const string NotLeader = "not_leader";

    /// <summary>
    /// 410: a consumer's position (or the <c>after</c> it reads from) is behind the outbox's retention: events after it
    /// were trimmed before it read them. Nothing is skipped silently: an operator moves the consumer past the gap.
    /// </summary>
    public const string EventsTrimmed = "events_trimmed";

    /// <summary>503: the node is at its limit of requests in flight.</summary>
    public const string Overloaded = "overloaded";

    /// <summary>429: the key's request rate is over its limit.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>401: no valid API key.</summary>
    public const string Unauthenticated = "unauthenticated";

    /// <summary>403: the key's role does not allow the request.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>409: another change of the members is in progress (one at a time); nothing changed, retry after it.</summary>
    public const string MembershipChangeInProgress = "membership_change_in_progress";

    /// <summary>422: the node to add did not catch up with the log within the warm-up rounds; it was not added.</summary>
    public const string MemberNotCaughtUp = "member_not_caught_up";

    /// <summary>422: the node to add does not answer at its address (not started, wrong address, or another cluster's credentials).</summary>
    public const string MemberUnreachable = "member_unreachable";

    /// <summary>422: the node to add did not take the cluster's identity (its data directory belongs to another cluster, or it did not answer); it was not added.</summary>
    public const string MemberIdentityRefused = "member_identity_refused";

    /// <summary>403 on the Raft endpoint: the sender is of another cluster, or not the member the directory binds to its address, or the receiver is not the member the request is for.</summary>
    public const string PeerIdentityRefused = "peer_identity_refused";

    /// <summary>404: no member of the active configuration has that id or address.</summary>
    public const string UnknownMember = "unknown_member";

    /// <summary>409: the change would leave the cluster without members.</summary>
    public const string LastMember = "last_member";

    /// <summary>503: the leader was asked to remove itself and resigned first; retry, and the next leader removes it.</summary>
    public const string LeaderResigned = "leader_resigned";

    /// <summary>401 on the Raft endpoint: the request is not signed with the cluster's peer secret.</summary>
    public const string PeerUnauthenticated = "peer_unauthenticated";
}
