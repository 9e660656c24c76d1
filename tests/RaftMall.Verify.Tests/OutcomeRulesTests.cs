using RaftMall.Client;

namespace RaftMall.Verify.Tests;

/// <summary>The checker counts a write as failed only when the cluster certainly did not apply it.</summary>
public class OutcomeRulesTests
{
    public static TheoryData<Exception, Outcome> Cases => new()
    {
        // Refusals with a problem answer: nothing was applied.
        { new RaftMallValidationException(400, "invalid_quantity", "quantity must be positive"), Outcome.Fail },
        { new RaftMallConflictException(409, "insufficient_stock", "only 2 left"), Outcome.Fail },
        { new RaftMallNotFoundException(404, "order_not_found", "no order 7"), Outcome.Fail },
        { new RaftMallException(401, "unauthenticated", "send an API key"), Outcome.Fail },
        // Anything else may have been applied.
        { new RaftMallException(500, "http_500", "internal error"), Outcome.Unknown },
        { new RaftMallException(502, "http_502", "bad gateway"), Outcome.Unknown },
        { new RaftMallException(0, "empty_answer", "the node answered without a body"), Outcome.Unknown },
        { new RaftMallUnavailableException("no_answer", "no node completed PUT /api/kv/a within 15 s"), Outcome.Unknown },
        { new RaftMallUnavailableException("outcome_unknown", "the leader lost its term after appending"), Outcome.Unknown },
        { new System.Text.Json.JsonException("unexpected end of data"), Outcome.Unknown },
        { new HttpRequestException("connection reset"), Outcome.Unknown },
        { new IOException("broken pipe"), Outcome.Unknown },
        { new TaskCanceledException("timed out"), Outcome.Unknown },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_write_fails_only_on_a_refusal_and_is_unknown_otherwise(Exception error, Outcome expected)
    {
        Assert.True(OutcomeRules.IsAnswerOrTransportError(error));
        Assert.Equal(expected, OutcomeRules.OfFailedWrite(error));
    }

    [Fact]
    public void A_bug_in_the_workload_is_not_taken_for_an_answer() =>
        Assert.False(OutcomeRules.IsAnswerOrTransportError(new InvalidOperationException("a bug")));
}
