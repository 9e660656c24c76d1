namespace RaftMall.StateMachine.Tests.Codec;

/// <summary>One or more instances of every command type, with edge values (nulls, unicode, negatives, empty arrays).</summary>
public static class CodecSamples
{
    public static MallCommand[] Commands() =>
    [
        new SetStock("apple", 10) { TimeMs = 1_700_000_000_000 },
        new SetStock("a", 0) { TimeMs = -5, IdempotencyKey = "k" },
        new IssueToken("tok-1", "alice", 1_700_000_060_000) { TimeMs = 1 },
        new PlaceOrder("alice", "tok-1", [new OrderItem("apple", 2), new OrderItem("pear", 10_000)], 60_000) { IdempotencyKey = "order-1" },
        new PlaceOrder("bob", null, [new OrderItem("apple", 1)], 1_000),
        new PayOrder(42) { TimeMs = long.MaxValue },
        new CancelOrder(long.MinValue),
        new ExpireDue { TimeMs = 123 },
        new KvPut("ключ/é/✓", "значение \u0000 with nul", 7),
        new KvPut("k", "", null),
        new KvDelete("k", 0),
        new KvDelete("k", null),
        new BeginTransaction("g-1", TransactionMode.Saga, 5_000, [new BranchSpec("b1", "http://127.0.0.1:9000/points", "{\"points\":10}"), new BranchSpec("b2", "stock:apple", "")]),
        new BeginTransaction("g-2", TransactionMode.TwoPhase, 100, []),
        new RegisterBranch("g-1", new BranchSpec("b3", "r", "{}")),
        new RecordVote("g-1", "b1", Vote.No),
        new DecideTransaction("g-1", Decision.Abort, "timeout"),
        new AcknowledgeBranch("g-1", "b1"),
        new TccBarrier("g-1", "b1", BarrierOperation.Cancel),
    ];
}
