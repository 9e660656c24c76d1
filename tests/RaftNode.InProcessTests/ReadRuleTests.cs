using RaftMall.Node.Consensus;

namespace RaftMall.Node.InProcessTests;

/// <summary>ReadRule: when a read barrier makes a read linearizable.</summary>
public sealed class ReadRuleTests
{
    [Fact]
    public async Task On_a_follower_the_barrier_repeats_until_the_committed_prefix_ends_in_the_current_term()
    {
        var node = new Node();
        // A new leader of term 5 whose commit index still ends in an entry of term 4 for the first three barriers.
        var raft = new FakeBarrier { Term = 5, CommittedTerms = new Queue<long>([4, 4, 4, 5]) };

        var read = ReadRule.WaitAsync(raft, node.Time, CancellationToken.None);
        await node.RunUntilAsync(() => read.IsCompleted, ReadRule.RetryDelay, TimeSpan.FromSeconds(1), "the read");

        await read;
        Assert.Equal(4, raft.Barriers);
    }

    [Fact]
    public async Task On_the_leader_one_barrier_is_enough()
    {
        var raft = new FakeBarrier { IsLeader = true, Term = 5, CommittedTerms = new Queue<long>([4]) };
        await ReadRule.WaitAsync(raft, TimeProvider.System, CancellationToken.None);
        Assert.Equal(1, raft.Barriers);
    }

    [Fact]
    public async Task Nothing_committed_yet_is_not_enough()
    {
        var node = new Node();
        var raft = new FakeBarrier { Term = 1, CommittedTerms = new Queue<long>([-1, -1, 1]) };
        var read = ReadRule.WaitAsync(raft, node.Time, CancellationToken.None);
        await node.RunUntilAsync(() => read.IsCompleted, ReadRule.RetryDelay, TimeSpan.FromSeconds(1), "the read");
        Assert.Equal(3, raft.Barriers);
    }

    [Fact]
    public async Task A_node_named_leader_without_confirmed_leadership_waits_instead_of_asking_for_a_barrier()
    {
        var node = new Node();
        // Named leader with its leadership not confirmed for three checks (a deposed leader until the next leader's
        // AppendEntries arrives); then a follower of a leader whose commit ends in the current term.
        var raft = new FakeBarrier { Term = 6, CommittedTerms = new Queue<long>([6]), Unconfirmed = 3 };

        var read = ReadRule.WaitAsync(raft, node.Time, CancellationToken.None);
        Assert.False(read.IsCompleted);
        Assert.Equal(0, raft.Barriers);
        await node.RunUntilAsync(() => read.IsCompleted, ReadRule.RetryDelay, TimeSpan.FromSeconds(1), "the read");

        await read;
        Assert.Equal(1, raft.Barriers);
        Assert.Equal(0, raft.Unconfirmed);
    }

    [Fact]
    public async Task A_failing_barrier_fails_the_read()
    {
        var raft = new FakeBarrier { Failure = new InvalidOperationException("no leader") };
        await Assert.ThrowsAsync<InvalidOperationException>(() => ReadRule.WaitAsync(raft, TimeProvider.System, CancellationToken.None));
    }

    private sealed class FakeBarrier : IReadBarrier
    {
        public bool IsLeader { get; init; }

        public long Term { get; init; }

        public Queue<long> CommittedTerms { get; init; } = new();

        public Exception? Failure { get; init; }

        public int Barriers { get; private set; }

        public int Unconfirmed { get; set; }

        public bool IsUnconfirmedLeader => Unconfirmed > 0 && Unconfirmed-- > 0;

        public Task BarrierAsync(CancellationToken token)
        {
            Barriers++;
            return Failure is null ? Task.CompletedTask : Task.FromException(Failure);
        }

        public ValueTask<long> TermOfLastCommittedAsync(CancellationToken token) => ValueTask.FromResult(CommittedTerms.Dequeue());
    }
}
