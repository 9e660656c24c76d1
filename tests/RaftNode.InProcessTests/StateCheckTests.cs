using RaftMall.Node.Consensus;
using RaftMall.Node.Drivers;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>State checks: every replica hashes its whole state at the log's check points, equal where replicas agree.</summary>
public sealed class StateCheckTests
{
    private static readonly MallCommand[] Commands =
    [
        new SetStock("apple", 10),
        new KvPut("color", "blue", null),
        new CheckState(),
        new KvPut("color", "green", 1),
        new SetStock("pear", 3),
        new CheckState(),
    ];

    [Fact]
    public void Replicas_that_applied_the_same_commands_hash_alike_and_one_that_missed_a_command_does_not()
    {
        var a = Replay(Commands);
        var b = Replay(Commands);
        var missed = Replay([.. Commands.Where((_, i) => i != 3)], skipIndex: 4); // the cas at index 4 never applied

        Assert.Equal([3L, 6L], a.StateChecks.Select(c => c.Index));
        Assert.Equal(a.StateChecks, b.StateChecks);
        Assert.Equal(a.StateChecks[0], missed.StateChecks[0]);
        Assert.Equal(6, missed.StateChecks[1].Index);
        Assert.NotEqual(a.StateChecks[1].Hash, missed.StateChecks[1].Hash);
        // The hash is the state's own hash at the check: the same as the one /api/cluster/state-hash gives.
        Assert.Equal(a.Read(s => s.StateHash()), a.StateChecks[1].Hash);
    }

    [Fact]
    public void A_check_changes_nothing_in_the_state()
    {
        var state = Replay(Commands[..2]);
        var before = state.Read(s => s.StateHash());
        state.Apply(3, new CheckState { TimeMs = 1_000_000 });
        Assert.Equal(before, state.Read(s => s.StateHash()));
        Assert.Equal(before, state.StateChecks[0].Hash);
    }

    [Fact]
    public void A_node_keeps_the_newest_checks()
    {
        var state = new ReplicatedState();
        for (var i = 1; i <= ReplicatedState.KeptStateChecks + 6; i++) state.Apply(i, new CheckState());

        Assert.Equal(ReplicatedState.KeptStateChecks, state.StateChecks.Count);
        Assert.Equal(7, state.StateChecks[0].Index);
        Assert.Equal(ReplicatedState.KeptStateChecks + 6, state.StateChecks[^1].Index);
    }

    [Fact]
    public async Task The_leader_proposes_a_check_every_interval_and_a_follower_does_not()
    {
        var node = new Node(c => c.StateCheckIntervalMs = 1_000);
        using var driver = new StateCheckDriver(node.Consensus, node.Proposer, node.Settings, node.Time, Node.Log<StateCheckDriver>());
        await driver.StartAsync(CancellationToken.None);

        await node.RunUntilAsync(() => node.State.StateChecks.Count == 2, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3), "two checks");
        node.Consensus.LeaderIs(node.Member("n2"));
        node.Time.Advance(TimeSpan.FromSeconds(5));
        await Node.Settle();
        Assert.Equal(2, node.State.StateChecks.Count);
        await driver.StopAsync(CancellationToken.None);
    }

    private static ReplicatedState Replay(IReadOnlyList<MallCommand> commands, long skipIndex = 0)
    {
        var state = new ReplicatedState();
        var index = 0L;
        foreach (var command in commands)
        {
            if (++index == skipIndex) index++; // the entry at skipIndex never reached this replica's state
            state.Apply(index, command);
        }
        return state;
    }
}
