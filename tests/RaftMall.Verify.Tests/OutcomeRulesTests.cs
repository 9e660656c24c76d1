using System.Net.Sockets;
using RaftMall.Client;

namespace RaftMall.Verify.Tests;

/// <summary>The checker counts a write as failed only when the cluster certainly did not apply it.</summary>
public class OutcomeRulesTests
{
    /// <summary>An answer's status and problem code (null: none) and how the write counts.</summary>
    public static TheoryData<int, string?, Outcome> Answers => new()
    {
        // Refusals with a problem code: the node or the state machine refused before anything was applied.
        { 400, "validation", Outcome.Fail },
        { 400, "malformed_json", Outcome.Fail },
        { 401, "unauthenticated", Outcome.Fail },
        { 403, "forbidden", Outcome.Fail },
        { 404, "order_not_found", Outcome.Fail },
        { 409, "insufficient_stock", Outcome.Fail },
        { 409, "token_used", Outcome.Fail },
        { 412, "revision_mismatch", Outcome.Fail },
        { 413, "body_too_large", Outcome.Fail },
        { 429, "rate_limited", Outcome.Fail },
        { 503, "not_leader", Outcome.Fail },
        // A 4xx without a problem code may not come from a node at all.
        { 404, null, Outcome.Unknown },
        { 409, "http_409", Outcome.Unknown },
        // Every other 503 and 5xx: the write may be in the log.
        { 503, "outcome_unknown", Outcome.Unknown },
        { 503, "no_leader", Outcome.Unknown },
        { 503, "overloaded", Outcome.Unknown },
        { 503, null, Outcome.Unknown },
        { 500, "internal", Outcome.Unknown },
        { 502, "http_502", Outcome.Unknown },
        { 504, "http_504", Outcome.Unknown },
        // A 2xx never reaches the rules as a failure; should it, it is not one.
        { 200, "ok", Outcome.Unknown },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void An_answer_fails_a_write_only_when_it_is_a_refusal(int status, string? code, Outcome expected) =>
        Assert.Equal(expected, OutcomeRules.OfAnswer(status, code));

    /// <summary>What the client throws and how the write counts.</summary>
    public static TheoryData<Exception, Outcome> Exceptions => new()
    {
        // The client's typed refusals.
        { new RaftMallValidationException(400, "invalid_quantity", "quantity must be positive"), Outcome.Fail },
        { new RaftMallConflictException(409, "insufficient_stock", "only 2 left"), Outcome.Fail },
        { new RaftMallConflictException(412, "revision_mismatch", "key a is at revision 3, not 2"), Outcome.Fail },
        { new RaftMallNotFoundException(404, "order_not_found", "no order 7"), Outcome.Fail },
        { new RaftMallException(401, "unauthenticated", "send an API key"), Outcome.Fail },
        // The client retried 503s and lost connections under one Idempotency-Key and gave up: whatever the last
        // attempt said, an earlier one may have been appended.
        { new RaftMallUnavailableException("not_leader", "no node completed PUT /api/kv/a within 3 s"), Outcome.Unknown },
        { new RaftMallUnavailableException("no_leader", "no node completed PUT /api/kv/a within 3 s"), Outcome.Unknown },
        { new RaftMallUnavailableException("outcome_unknown", "the leader lost its term after appending"), Outcome.Unknown },
        { new RaftMallUnavailableException("rate_limited", "over the key's limit"), Outcome.Unknown },
        { new RaftMallUnavailableException("no_answer", "no node completed PUT /api/kv/a within 3 s", new TaskCanceledException()), Outcome.Unknown },
        { new RaftMallUnavailableException("connection_refused", "no node completed PUT /api/kv/a within 3 s"), Outcome.Unknown },
        // Answers that are not refusals, or that could not be read.
        { new RaftMallException(500, "http_500", "internal error"), Outcome.Unknown },
        { new RaftMallException(502, "http_502", "bad gateway"), Outcome.Unknown },
        { new RaftMallNotFoundException(404, "http_404", "Not Found"), Outcome.Unknown },
        { new RaftMallException(0, "empty_answer", "the node answered without a body"), Outcome.Unknown },
        { new RaftMallException("no answer", new IOException("reset")), Outcome.Unknown },
        { new System.Text.Json.JsonException("unexpected end of data"), Outcome.Unknown },
        // No answer at all.
        { new HttpRequestException("connection reset"), Outcome.Unknown },
        { new IOException("broken pipe"), Outcome.Unknown },
        { new SocketException((int)SocketError.NotConnected), Outcome.Unknown },
        { new TaskCanceledException("timed out"), Outcome.Unknown },
        { new OperationCanceledException(), Outcome.Unknown },
    };

    [Theory]
    [MemberData(nameof(Exceptions))]
    public void A_write_fails_only_on_a_refusal_and_is_unknown_otherwise(Exception error, Outcome expected)
    {
        Assert.True(OutcomeRules.IsAnswerOrTransportError(error));
        Assert.Equal(expected, OutcomeRules.OfFailedWrite(error));
    }

    [Fact]
    public void A_bug_in_the_workload_is_not_taken_for_an_answer() =>
        Assert.False(OutcomeRules.IsAnswerOrTransportError(new InvalidOperationException("a bug")));
}
