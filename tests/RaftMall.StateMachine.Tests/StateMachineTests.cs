namespace RaftMall.StateMachine.Tests;

/// <summary>Rules that read better as single tests than as scenario lines.</summary>
public class StateMachineTests
{
    [Fact]
    public void Too_many_items_are_refused_and_lock_nothing()
    {
        var state = new MallStateMachine();
        var items = new OrderItem[MallLimits.MaxItemsPerOrder + 1];
        for (var i = 0; i < items.Length; i++)
        {
            state.Apply(new SetStock($"s{i}", 5));
            items[i] = new OrderItem($"s{i}", 1);
        }
        var result = Assert.IsType<Rejected>(state.Apply(new PlaceOrder("u", null, items, 60_000)));
        Assert.Equal("validation", result.CodeName);
        Assert.All(state.ListStock(), s => Assert.Equal(0, s.Locked));
        Assert.Equal(0, state.OrderCount);
    }

    [Fact]
    public void The_outbox_keeps_a_bounded_gap_free_window()
    {
        var state = new MallStateMachine(retainedEvents: 10);
        for (var i = 0; i < 25; i++) state.Apply(new SetStock("apple", i));
        Assert.Equal(25, state.LastEventSequence);
        Assert.Equal(16, state.FirstRetainedEventSequence);
        var events = state.ReadEvents(0, 100);
        Assert.Equal(Enumerable.Range(16, 10).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.Equal("evt-16", events[0].Id);
        Assert.Equal(3, state.ReadEvents(22, 100).Count);
        Assert.Equal(2, state.ReadEvents(0, 2).Count);
    }

    [Fact]
    public void Log_time_never_goes_back()
    {
        var state = new MallStateMachine();
        state.Apply(new ExpireDue { TimeMs = 5_000 });
        state.Apply(new ExpireDue { TimeMs = 3_000 });
        Assert.Equal(5_000, state.LogTimeMs);
    }

    [Fact]
    public void Committing_a_transaction_without_branches_finishes_it()
    {
        var state = new MallStateMachine();
        state.Apply(new BeginTransaction("g", TransactionMode.TwoPhase, 1_000, []));
        var result = Assert.IsType<TransactionResult>(state.Apply(new DecideTransaction("g", Decision.Commit, "empty")));
        Assert.Equal(TransactionStatus.Committed, result.Transaction.Status);
        Assert.Equal(["transactionBegun", "transactionDecided", "transactionFinished"], state.ReadEvents(0, 10).Select(e => EventKindNames.Name(e.Kind)));
    }

    [Fact]
    public void Invariant_check_catches_a_corrupted_table()
    {
        // A snapshot whose stock row disagrees with its orders must not load: decode into a state, then break it.
        var state = new MallStateMachine();
        state.Apply(new SetStock("apple", 5));
        state.Apply(new PlaceOrder("u", null, [new OrderItem("apple", 2)], 60_000));
        state.CheckInvariants();
        var hacked = typeof(MallStateMachine).GetField("_stock", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var table = (System.Collections.IDictionary)hacked.GetValue(state)!;
        var counts = table["apple"]!;
        counts.GetType().GetField("Locked")!.SetValue(counts, 1L);
        Assert.Throws<InvariantViolationException>(state.CheckInvariants);
    }

    [Fact]
    public void A_batch_applies_each_command_on_its_own_and_refuses_a_key_of_its_own_and_nesting()
    {
        var state = new MallStateMachine();
        state.Apply(new BeginTransaction("g1", TransactionMode.Tcc, 10_000, [BranchSpec.Http("b", "http://p/t", "http://p/c", "http://p/x")]) { TimeMs = 1_000 });
        state.Apply(new BeginTransaction("g2", TransactionMode.Tcc, 10_000, [BranchSpec.Http("b", "http://p/t", "http://p/c", "http://p/x")]) { TimeMs = 1_000 });
        var result = Assert.IsType<BatchResult>(state.Apply(new CommandBatch(
        [
            new DecideTransaction("g1", Decision.Commit, "ok", [new BranchVote("b", Vote.Yes, false, 1, "")]),
            new DecideTransaction("nope", Decision.Abort, "x"),
            new DecideTransaction("g2", Decision.Abort, "no", [new BranchVote("b", Vote.No, true, 1, "409")]),
            new RecordPhaseTwo([new BranchProgress("g1", "b", Decision.Commit, true, 1, "", false), new BranchProgress("g2", "b", Decision.Abort, true, 1, "", false)]),
        ])
        { TimeMs = 2_000 }));
        Assert.Equal(["TransactionResult", "Rejected", "TransactionResult", "PhaseTwoResult"], result.Results.Select(r => r.GetType().Name));
        Assert.Equal(TransactionStatus.Committed, state.GetTransaction("g1")!.Status);
        Assert.Equal(TransactionStatus.Aborted, state.GetTransaction("g2")!.Status);
        Assert.Equal(2_000, state.GetTransaction("g1")!.DecidedAtMs);
        Assert.IsType<Rejected>(state.Apply(new CommandBatch([new ExpireDue()]) { IdempotencyKey = "k" }));
        Assert.IsType<Rejected>(Assert.IsType<BatchResult>(state.Apply(new CommandBatch([new CommandBatch([])]))).Results[0]);
        state.CheckInvariants();
    }

    [Fact]
    public void Commands_in_a_batch_keep_their_own_idempotency_keys()
    {
        var state = new MallStateMachine();
        state.Apply(new SetStock("apple", 5));
        var place = new PlaceOrder("u", null, [new OrderItem("apple", 2)], 60_000) { IdempotencyKey = "place-1" };
        var first = Assert.IsType<BatchResult>(state.Apply(new CommandBatch([place, new KvPut("k", "v", null), place, place with { UserId = "other" }])));
        var order = Assert.IsType<OrderResult>(first.Results[0]);
        Assert.Equal(order, first.Results[2]); // the repeat inside the same batch gets the first answer
        Assert.Equal(ErrorCode.IdempotencyKeyReused, Assert.IsType<Rejected>(first.Results[3]).Code);
        // A retry in a later batch, or alone, applies nothing either.
        var again = Assert.IsType<BatchResult>(state.Apply(new CommandBatch([place])));
        Assert.Equal(order, again.Results[0]);
        Assert.Equal(order, state.Apply(place));
        Assert.Equal(3, state.GetStock("apple")!.Value.Available);
        state.CheckInvariants();
    }
}
