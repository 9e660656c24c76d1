using System.Net.Sockets;
using System.Text.Json;
using RaftMall.Client;
using RaftMall.Contract;

namespace RaftMall.Verify;

/// <summary>
/// How the checker counts a write that did not end in an acknowledgement. Failed only when the cluster certainly did
/// not apply it; unknown otherwise, because counting a write that may have been applied as failed lets the checker
/// reject a valid history or pass one that lost an acknowledged write.
/// </summary>
public static class OutcomeRules
{
    /// <summary>The cluster's answer, or the lack of one; anything else is a bug of the workload and ends the run.</summary>
    public static bool IsAnswerOrTransportError(Exception e) =>
        e is RaftMallException or JsonException or HttpRequestException or IOException or SocketException or OperationCanceledException;

    /// <summary>How a write that threw <paramref name="e"/> ended.</summary>
    public static Outcome OfFailedWrite(Exception e) => e switch
    {
        // The client gave up after retrying (503, 429, lost connections, timeouts) under one Idempotency-Key: an earlier
        // attempt may have been appended, whatever the last attempt's code says.
        RaftMallUnavailableException => Outcome.Unknown,
        RaftMallException { Status: > 0 } answer => OfAnswer(answer.Status, answer.Code),
        // Status 0 is the client's own verdict (e.g. empty_answer, after a 2xx); the others never read an answer.
        _ => Outcome.Unknown,
    };

    /// <summary>
    /// How a write ended that was answered with <paramref name="status"/> and the problem <paramref name="code"/>
    /// (null, or the client's stand-in <c>http_&lt;status&gt;</c>, when the answer had none).
    /// </summary>
    public static Outcome OfAnswer(int status, string? code)
    {
        // Without a problem code the answer may come from anything between us and the node (a proxy, a crash page).
        if (code is null || code.StartsWith("http_", StringComparison.Ordinal)) return Outcome.Unknown;
        return status switch
        {
            // Refusals: the node checks the request before proposing it, and the state machine remembers a refusal
            // under the Idempotency-Key, so a retry or a late duplicate of the same write is refused too.
            >= 400 and < 500 => Outcome.Fail,
            // The leader refused before appending (RaftConsensus.ProposeAsync); a forwarding follower passes the
            // leader's answer on unchanged and turns a lost forward into outcome_unknown, never into not_leader.
            503 when code == ProblemCodes.NotLeader => Outcome.Fail,
            // outcome_unknown, no_leader after a wait, overloaded, any 5xx: the write may be in the log.
            _ => Outcome.Unknown,
        };
    }
}
