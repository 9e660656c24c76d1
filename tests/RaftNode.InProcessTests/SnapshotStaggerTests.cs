using RaftMall.Node.Consensus.Raft;

namespace RaftMall.Node.InProcessTests;

/// <summary>The members of a cluster take their snapshots at different indexes, spread over half an interval.</summary>
public sealed class SnapshotStaggerTests
{
    [Fact]
    public void Each_listed_member_waits_its_share_of_half_an_interval_and_an_unlisted_one_half_of_it()
    {
        Assert.Equal([0, 16_666, 33_333], Enumerable.Range(0, 3).Select(p => MallStateHost.SnapshotStagger(100_000, p, 3)));
        Assert.Equal([0, 10_000, 20_000, 30_000, 40_000], Enumerable.Range(0, 5).Select(p => MallStateHost.SnapshotStagger(100_000, p, 5)));
        Assert.Equal(50_000, MallStateHost.SnapshotStagger(100_000, -1, 3)); // added later: not in the cluster file
        Assert.Equal(0, MallStateHost.SnapshotStagger(100_000, 0, 1)); // a single node has nobody to keep apart from
        Assert.Equal([0, 1, 3], Enumerable.Range(0, 3).Select(p => MallStateHost.SnapshotStagger(10, p, 3)));
    }
}
