using RaftMall.Verify;

namespace RaftMall.Verify.Tests;

/// <summary>The delivery check: lost, out-of-order and twice-applied messages are found; repeats and unknown outcomes are allowed.</summary>
public class DeliveryCheckerTests
{
    [Fact]
    public void Repeats_after_a_redelivery_are_counted_and_the_first_arrivals_keep_their_order()
    {
        // A leader change sends 3..4 again after 5 had arrived: a consumer deduplicating by id applies 1..6 once each.
        var (applied, repeats) = DeliveryChecker.FirstArrivals([1, 2, 3, 4, 5, 3, 4, 5, 6]);
        Assert.Equal([1, 2, 3, 4, 5, 6], applied);
        Assert.Equal(3, repeats);
        var check = DeliveryChecker.Check("s", [1, 2, 3, 5, 6], applied, repeats);
        Assert.True(check.Ok); // 4 had an unknown outcome and committed: applied, not acknowledged, allowed
        Assert.Equal(6, check.Applied);
        Assert.Equal(3, check.Duplicates);
        Assert.Empty(check.Violations());
    }

    [Fact]
    public void An_acknowledged_message_never_applied_is_lost()
    {
        var check = DeliveryChecker.Check("s", [1, 2, 3, 7], [1, 3], 0);
        Assert.False(check.Ok);
        Assert.Equal([2, 7], check.Lost);
        Assert.Contains("2 acknowledged messages never applied (2, 7)", Assert.Single(check.Violations()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_gap_filled_late_is_out_of_order()
    {
        // 3 skipped, then delivered after 4: nothing lost, but the subscription's order is broken.
        var (applied, repeats) = DeliveryChecker.FirstArrivals([1, 2, 4, 3, 5]);
        var check = DeliveryChecker.Check("s", [1, 2, 3, 4, 5], applied, repeats);
        Assert.False(check.Ok);
        Assert.Empty(check.Lost);
        Assert.Equal([3], check.OutOfOrder);
    }

    [Fact]
    public void A_message_in_a_consumers_applied_list_twice_was_applied_twice()
    {
        var check = DeliveryChecker.Check("s", [1, 2], [1, 2, 2], 0);
        Assert.False(check.Ok);
        Assert.Equal([2], check.AppliedTwice);
        Assert.Empty(check.OutOfOrder);
        Assert.Equal(2, check.Applied);
    }
}
