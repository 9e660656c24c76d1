namespace RaftMall.Verify.Tests;

/// <summary>StateCheckLedger: replicas' state hashes compared index by index.</summary>
public sealed class StateCheckLedgerTests
{
    [Fact]
    public void Equal_hashes_at_equal_indexes_are_no_divergence()
    {
        var ledger = new StateCheckLedger();
        foreach (var node in new[] { "n1", "n2", "n3" })
        {
            ledger.Add(node, 100, "aaaa");
            ledger.Add(node, 200, "bbbb");
        }
        ledger.Add("n1", 300, "cccc"); // only one node has checked 300 yet: nothing to compare there

        Assert.Empty(ledger.Divergences());
        Assert.Equal(2, ledger.Compared);
    }

    [Fact]
    public void A_replica_that_differs_is_named_from_the_first_index_on()
    {
        var ledger = new StateCheckLedger();
        ledger.Add("n1", 100, "aaaa");
        ledger.Add("n3", 100, "aaaa");
        ledger.Add("n1", 200, "bbbb");
        ledger.Add("n3", 200, "dddd");
        ledger.Add("n2", 200, "bbbb");
        ledger.Add("n1", 300, "cccc");
        ledger.Add("n3", 300, "eeee");

        var divergences = ledger.Divergences();
        Assert.Equal(2, divergences.Count);
        Assert.Equal("replicas differ at the state check of log index 200: n1=bbbb, n2=bbbb, n3=dddd", divergences[0]);
        Assert.StartsWith("replicas differ at the state check of log index 300", divergences[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Two_incarnations_of_one_node_are_compared_with_each_other()
    {
        // A node whose data the membership nemesis set aside comes back empty under the same id: its old checks and
        // its new ones are both reports.
        var ledger = new StateCheckLedger();
        ledger.Add("n3", 100, "aaaa");
        ledger.Add("n3", 100, "ffff");

        Assert.Equal(["replicas differ at the state check of log index 100: n3=aaaa/ffff"], ledger.Divergences());
        Assert.Equal(1, ledger.Compared);
    }
}
