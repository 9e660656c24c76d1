using RaftMall.Node.Consensus;
using RaftMall.Node.Drivers;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// State checks: every replica hashes its whole state at the log's check points (on its snapshot shadow, off the apply
/// path), equal where replicas agree.
/// </summary>
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
    public async Task Replicas_that_applied_the_same_commands_hash_alike_and_one_that_missed_a_command_does_not()
    {
        var root = Path.Combine(Path.GetTempPath(), "raftmall-checks-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var a = await ReplayAsync(Path.Combine(root, "a"), Commands);
            var b = await ReplayAsync(Path.Combine(root, "b"), Commands);
            var missed = await ReplayAsync(Path.Combine(root, "missed"), Commands, skipIndex: 4); // the cas at index 4 passed over

            Assert.Equal([3L, 6L], a.Checks.Select(c => c.Index));
            Assert.Equal(a.Checks, b.Checks);
            Assert.Equal(a.Checks[0], missed.Checks[0]);
            Assert.Equal(6, missed.Checks[1].Index);
            Assert.NotEqual(a.Checks[1].Hash, missed.Checks[1].Hash);
            // The hash is the state's own hash at the check: the same as the one /api/cluster/state-hash gives.
            Assert.Equal(a.Hash, a.Checks[1].Hash);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void A_check_changes_nothing_in_the_state()
    {
        var state = new ReplicatedState();
        state.Apply(1, Commands[0]);
        state.Apply(2, Commands[1]);
        var before = state.Read(s => s.StateHash());
        state.Apply(3, new CheckState { TimeMs = 1_000_000 });
        Assert.Equal(before, state.Read(s => s.StateHash()));
    }

    [Fact]
    public void A_node_keeps_the_newest_checks()
    {
        var state = new ReplicatedState();
        for (var i = 1; i <= ReplicatedState.KeptStateChecks + 6; i++) state.RecordCheck(i, (ulong)i);

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

        await node.RunUntilAsync(() => Checks(node) == 2, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3), "two checks");
        node.Consensus.LeaderIs(node.Member("n2"));
        node.Time.Advance(TimeSpan.FromSeconds(5));
        await Node.Settle();
        Assert.Equal(2, Checks(node));
        await driver.StopAsync(CancellationToken.None);
    }

    private static int Checks(Node node) =>
        node.Consensus.Proposed.Count(c => c is CheckState || (c is CommandBatch b && b.Commands.Any(x => x is CheckState)));

    /// <summary>
    /// Applies <paramref name="commands"/> through a real log and state machine (entry i+1 holds command i; the entry at
    /// <paramref name="skipIndex"/> is written without payload, so the log passes it over) and waits for the checks,
    /// which the snapshot shadow hashes in the background.
    /// </summary>
    private static async Task<(IReadOnlyList<ReplicatedState.StateCheck> Checks, ulong Hash)> ReplayAsync(string root, IReadOnlyList<MallCommand> commands, long skipIndex = 0)
    {
        await using var node = await LocalReplica.OpenAsync(root);
        long last = 0;
        foreach (var command in commands) last = await node.AppendAsync(term: 1, last + 1 == skipIndex ? null : command);
        await node.CommitAsync(last);
        var expected = commands.Count(c => c is CheckState);
        for (var i = 0; i < 200 && node.State.StateChecks.Count < expected; i++) await Task.Delay(10);
        return (node.State.StateChecks, node.State.Read(s => s.StateHash()));
    }
}
