using RaftMall.Verify;

namespace RaftMall.Verify.Tests;

/// <summary>The checker on hand-made histories: good ones pass, each kind of bad one is caught.</summary>
public class LinearizabilityTests
{
    // op(process, kind, value, invoke, complete): times in arbitrary units.
    private static Operation Op(int process, string kind, string? value, long invoke, long complete, Outcome outcome = Outcome.Ok, string? expected = null, bool? succeeded = null) =>
        new() { Process = process, Kind = kind, Key = "k", Value = value, Expected = expected, Succeeded = succeeded, InvokeNs = invoke, CompleteNs = complete, Outcome = outcome };

    private static LinearizabilityVerdict Check(params Operation[] history) => Linearizability.CheckKey(history, TimeSpan.FromSeconds(10));

    [Fact]
    public void A_sequential_history_is_linearizable()
    {
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(
            Op(0, Kinds.Read, null, 0, 1),
            Op(0, Kinds.Write, "a", 2, 3),
            Op(1, Kinds.Read, "a", 4, 5),
            Op(1, Kinds.Cas, "b", 6, 7, expected: "a", succeeded: true),
            Op(0, Kinds.Cas, "c", 8, 9, expected: "a", succeeded: false),
            Op(0, Kinds.Read, "b", 10, 11)));
    }

    [Fact]
    public void Concurrent_operations_may_take_effect_in_either_order()
    {
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(
            Op(0, Kinds.Write, "a", 0, 10),
            Op(1, Kinds.Write, "b", 1, 9),
            Op(2, Kinds.Read, "a", 2, 12),
            Op(3, Kinds.Read, "a", 11, 13)));
    }

    [Fact]
    public void A_stale_read_is_caught()
    {
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(
            Op(0, Kinds.Write, "a", 0, 1),
            Op(0, Kinds.Write, "b", 2, 3),
            Op(1, Kinds.Read, "a", 4, 5)));
    }

    [Fact]
    public void A_lost_acknowledged_write_is_caught()
    {
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(
            Op(0, Kinds.Write, "a", 0, 1),
            Op(1, Kinds.Write, "b", 2, 3),
            Op(2, Kinds.Read, "a", 10, 11)));
    }

    [Fact]
    public void A_write_that_appears_twice_is_caught()
    {
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(
            Op(0, Kinds.Write, "a", 0, 1),
            Op(0, Kinds.Write, "b", 2, 3),
            Op(1, Kinds.Read, "b", 4, 5),
            Op(1, Kinds.Read, "a", 6, 7),
            Op(1, Kinds.Read, "b", 8, 9)));
    }

    [Fact]
    public void A_cas_that_succeeds_against_another_value_is_caught()
    {
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(
            Op(0, Kinds.Write, "a", 0, 1),
            Op(0, Kinds.Write, "b", 2, 3),
            Op(1, Kinds.Cas, "c", 4, 5, expected: "a", succeeded: true)));
    }

    [Fact]
    public void An_unknown_write_may_or_may_not_have_taken_effect()
    {
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(
            Op(0, Kinds.Write, "a", 0, 1),
            Op(1, Kinds.Write, "x", 2, 3, Outcome.Unknown),
            Op(2, Kinds.Read, "x", 10, 11)));
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(
            Op(0, Kinds.Write, "a", 0, 1),
            Op(1, Kinds.Write, "x", 2, 3, Outcome.Unknown),
            Op(2, Kinds.Read, "a", 10, 11)));
        // ... but not both: once seen, it cannot disappear.
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(
            Op(0, Kinds.Write, "a", 0, 1),
            Op(1, Kinds.Write, "x", 2, 3, Outcome.Unknown),
            Op(2, Kinds.Read, "x", 10, 11),
            Op(2, Kinds.Read, "a", 12, 13)));
    }

    [Fact]
    public void Failed_operations_never_take_effect_and_keys_are_checked_apart()
    {
        var history = new[]
        {
            Op(0, Kinds.Write, "a", 0, 1),
            Op(1, Kinds.Write, "z", 2, 3, Outcome.Fail),
            Op(2, Kinds.Read, "z", 4, 5) with { Key = "other" },
        };
        var results = Linearizability.Check(history, TimeSpan.FromSeconds(5));
        Assert.Equal(LinearizabilityVerdict.Linearizable, results.Single(r => r.Key == "k").Verdict);
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, results.Single(r => r.Key == "other").Verdict);
    }

    [Fact]
    public void The_search_gives_up_with_unknown_when_its_budget_runs_out()
    {
        // Many concurrent unknown writes and reads that fit no order: a search space too big for a zero budget.
        var history = Enumerable.Range(0, 200).Select(i => Op(i, i % 2 == 0 ? Kinds.Write : Kinds.Read, $"v{i / 2}", 0, 1_000, i % 2 == 0 ? Outcome.Unknown : Outcome.Ok)).ToArray();
        Assert.Equal(LinearizabilityVerdict.Unknown, Linearizability.CheckKey(history, TimeSpan.Zero));
    }
}

public class SmallestFailingPrefixTests
{
    [Fact]
    public void The_reported_sub_history_ends_at_the_violation()
    {
        Operation Op(string kind, string? value, long invoke, long complete) =>
            new() { Process = 0, Kind = kind, Key = "k", Value = value, InvokeNs = invoke, CompleteNs = complete, Outcome = Outcome.Ok };
        var history = new[] { Op(Kinds.Write, "a", 0, 1), Op(Kinds.Write, "b", 2, 3), Op(Kinds.Read, "a", 4, 5), Op(Kinds.Write, "c", 6, 7), Op(Kinds.Read, "c", 8, 9) };
        var prefix = Linearizability.SmallestFailingPrefix(history, TimeSpan.FromSeconds(5));
        Assert.Equal(3, prefix.Count);
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Linearizability.CheckKey(prefix, TimeSpan.FromSeconds(5)));
    }
}
