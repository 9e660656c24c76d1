using RaftMall.Node.Consensus;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.InProcessTests;

/// <summary>WriteBatcher: the writes that arrive while entries replicate share the next entry, each with its own answer.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task Writes_that_arrive_while_entries_replicate_share_the_next_entry_and_each_gets_its_own_answer()
    {
        var node = new Node(c => c.MaxWritesPerEntry = 4);
        node.Consensus.Hold = true;
        using var batcher = new WriteBatcher(node.Proposer, node.Settings, Node.Log<WriteBatcher>());
        await batcher.StartAsync(CancellationToken.None);

        // Every drain busy with an entry of its own...
        var first = new List<Task<ProposeOutcome>>();
        for (var i = 0; i < WriteBatcher.EntriesInFlight; i++)
        {
            first.Add(batcher.ProposeAsync(new KvPut($"alone-{i}", "v", null)));
            await WaitForAsync(() => node.Consensus.Proposed.Count == i + 1);
        }
        // ...so these wait, and go together: at most 4 in one entry, the rest in the next.
        var queued = new List<Task<ProposeOutcome>>
        {
            batcher.ProposeAsync(new KvPut("a", "1", null)),
            batcher.ProposeAsync(new KvPut("b", "1", null)),
            batcher.ProposeAsync(new KvPut("a", "2", ExpectedRevision: 99)), // refused by the state machine: only this one
            batcher.ProposeAsync(new KvPut("a", "3", null)),
            batcher.ProposeAsync(new KvPut("c", "1", null)),
            batcher.ProposeAsync(new KvPut("d", "1", null)),
        };
        // One drain at a time: two released together race to propose, and either entry could come first.
        node.Consensus.Release();
        await WaitForAsync(() => node.Consensus.Proposed.Count == WriteBatcher.EntriesInFlight + 1);
        node.Consensus.Release();
        await WaitForAsync(() => node.Consensus.Proposed.Count == WriteBatcher.EntriesInFlight + 2);
        node.Consensus.ReleaseAll();
        var answers = await Task.WhenAll(queued);

        var batches = node.Consensus.Proposed.Skip(WriteBatcher.EntriesInFlight).Cast<CommandBatch>().ToList();
        Assert.Equal([4, 2], batches.Select(b => b.Commands.Length));
        Assert.Equal(["a", "b", "a", "a"], batches[0].Commands.Cast<KvPut>().Select(c => c.Key));
        // The answers are each write's own, in the order the writes came (the kv revision counts every put: 1..4 went
        // to the writes alone in their entries).
        Assert.Equal(ErrorCode.RevisionMismatch, Assert.IsType<Rejected>(Assert.IsType<ProposeOutcome.Applied>(answers[2]).Result).Code);
        var accepted = answers.Where((_, i) => i != 2).Select(Entry).ToList();
        Assert.Equal([("a", "1", 5L), ("b", "1", 6L), ("a", "3", 7L), ("c", "1", 8L), ("d", "1", 9L)], accepted.Select(e => (e.Key, e.Value, e.Revision)));
        // The first four share one entry's index, the last two the next one's.
        var indexes = answers.Select(a => Assert.IsType<ProposeOutcome.Applied>(a).Index).ToList();
        Assert.Single(indexes.Take(4).Distinct());
        Assert.Single(indexes.Skip(4).Distinct());
        Assert.True(indexes[4] > indexes[0]);
        await batcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Writes_too_large_for_one_entry_together_are_split_by_size_and_each_gets_its_own_answer_in_order()
    {
        var node = new Node(c => c.MaxWritesPerEntry = 64); // the count limit is far: only the size splits
        using var batcher = await EveryEntryInFlightHeldAsync(node);
        // 20 writes of the largest value wait together: about 1.3 MB, over what one entry's command may encode to (1 MiB).
        var value = new string('v', MallLimits.MaxValueLength);
        var large = Enumerable.Range(0, 20).Select(i => batcher.ProposeAsync(new KvPut($"large-{i}", value, null))).ToList();
        node.Consensus.Hold = false;
        node.Consensus.Release(); // frees one drain, which takes all 20 (under maxWritesPerEntry)
        var answers = await Task.WhenAll(large);

        Assert.Equal(1, node.Consensus.Oversized); // the entry of 20 was refused by the codec, nothing of it appended...
        var batches = node.Consensus.Proposed.Skip(WriteBatcher.EntriesInFlight).Cast<CommandBatch>().ToList();
        Assert.Equal([10, 10], batches.Select(b => b.Commands.Length)); // ...and went as two entries of 10
        Assert.All(batches, b => Assert.True(CommandCodec.Encode(b).Length <= MallLimits.MaxEncodedCommandBytes));
        // Each write's own answer, in the order the writes came (revision 1 went to the released single write).
        Assert.Equal(Enumerable.Range(0, 20).Select(i => ($"large-{i}", 2L + i)), answers.Select(Entry).Select(e => (e.Key, e.Revision)));
        var indexes = answers.Select(a => Assert.IsType<ProposeOutcome.Applied>(a).Index).ToList();
        Assert.Single(indexes.Take(10).Distinct());
        Assert.Single(indexes.Skip(10).Distinct());
        Assert.True(indexes[10] > indexes[0]);
        node.Consensus.ReleaseAll();
        await batcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task An_entry_whose_outcome_is_unknown_answers_unknown_to_every_write_in_it_and_no_other()
    {
        var node = new Node();
        using var batcher = await EveryEntryInFlightHeldAsync(node);
        var lost = new[] { batcher.ProposeAsync(new KvPut("x", "1", null)), batcher.ProposeAsync(new KvPut("y", "1", null)) };
        node.Consensus.Release();
        await WaitForAsync(() => node.Consensus.Proposed.Count == WriteBatcher.EntriesInFlight + 1);
        node.Consensus.ReleaseAll(); // the three single writes still held commit
        await WaitForAsync(() => node.Consensus.HeldCount == 0 && node.Consensus.Proposed.Count == WriteBatcher.EntriesInFlight + 1);
        // (the batch was released by ReleaseAll too: hold the next one and fail it)
        var next = new[] { batcher.ProposeAsync(new KvPut("p", "1", null)), batcher.ProposeAsync(new KvPut("q", "1", null)) };
        await WaitForAsync(() => node.Consensus.HeldCount == 1);
        node.Consensus.Release(new ProposeOutcome.Unknown("leadership was lost"));
        var after = batcher.ProposeAsync(new KvPut("r", "1", null));
        await WaitForAsync(() => node.Consensus.HeldCount == 1);
        node.Consensus.Release();

        Assert.All(await Task.WhenAll(lost), o => Assert.IsType<ProposeOutcome.Applied>(o));
        Assert.All(await Task.WhenAll(next), o => Assert.Equal("leadership was lost", Assert.IsType<ProposeOutcome.Unknown>(o).Reason));
        Assert.IsType<ProposeOutcome.Applied>(await after);
        Assert.Null(node.State.Read(s => s.GetKv("p")));
        await batcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task With_group_commit_off_every_write_is_an_entry_of_its_own()
    {
        var node = new Node(c => c.MaxWritesPerEntry = 1);
        using var batcher = new WriteBatcher(node.Proposer, node.Settings, Node.Log<WriteBatcher>());
        await batcher.StartAsync(CancellationToken.None);
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => batcher.ProposeAsync(new KvPut($"k{i}", "v", null))));
        Assert.All(answers, o => Assert.IsType<ProposeOutcome.Applied>(o));
        Assert.Equal(5, node.Consensus.Proposed.Count);
        Assert.DoesNotContain(node.Consensus.Proposed, c => c is CommandBatch);
        await batcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_write_on_a_follower_is_refused_as_not_leader_and_nothing_is_applied()
    {
        var node = new Node();
        node.Consensus.LeaderIs(node.Member("n2"));
        using var batcher = new WriteBatcher(node.Proposer, node.Settings, Node.Log<WriteBatcher>());
        await batcher.StartAsync(CancellationToken.None);
        Assert.IsType<ProposeOutcome.NotLeader>(await batcher.ProposeAsync(new KvPut("k", "v", null)));
        Assert.Equal(0, node.State.Read(s => s.KvCount));
        await batcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Every_proposal_carries_the_leaders_clock()
    {
        var node = new Node();
        node.Time.Advance(TimeSpan.FromMinutes(3));
        await node.Proposer.ProposeAsync(new KvPut("k", "v", null), CancellationToken.None);
        Assert.Equal(node.Time.GetUtcNow().ToUnixTimeMilliseconds(), node.Consensus.Proposed.Single().TimeMs);
    }

    private static KvEntry Entry(ProposeOutcome outcome) =>
        Assert.IsType<KvResult>(Assert.IsType<ProposeOutcome.Applied>(outcome).Result).Entry;

    /// <summary>A started batcher whose every drain holds an entry of one write ("alone-0".."alone-3"), so the next writes wait together.</summary>
    private static async Task<WriteBatcher> EveryEntryInFlightHeldAsync(Node node)
    {
        node.Consensus.Hold = true;
        var batcher = new WriteBatcher(node.Proposer, node.Settings, Node.Log<WriteBatcher>());
        await batcher.StartAsync(CancellationToken.None);
        for (var i = 0; i < WriteBatcher.EntriesInFlight; i++)
        {
            _ = batcher.ProposeAsync(new KvPut($"alone-{i}", "v", null));
            await WaitForAsync(() => node.Consensus.Proposed.Count == i + 1);
        }
        return batcher;
    }

    private static Task WaitForAsync(Func<bool> condition) => Node.WaitForAsync(condition, "the batcher did not get there");
}
