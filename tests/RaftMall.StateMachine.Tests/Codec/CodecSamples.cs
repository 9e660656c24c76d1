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
        new BeginTransaction("g-1", TransactionMode.Saga, 5_000,
        [
            BranchSpec.Http("b1", "http://127.0.0.1:9000/points/act", "", "http://127.0.0.1:9000/points/undo", "{\"points\":10}", 2_000),
            BranchSpec.Stock("b2", "apple", 3),
            BranchSpec.Order("b3", "alice", [new OrderItem("apple", 1), new OrderItem("pear", 2)]),
        ]),
        new BeginTransaction("g-2", TransactionMode.TwoPhase, 100, []),
        new RegisterBranch("g-1", BranchSpec.Http("b4", "http://p/try", "http://p/confirm", "http://p/cancel")),
        new RecordVote("g-1", "b1", Vote.No),
        new DecideTransaction("g-1", Decision.Abort, "timeout"),
        new DecideTransaction("g-1", Decision.Commit, "all yes", [new BranchVote("b1", Vote.Yes, false, 1, ""), new BranchVote("b4", Vote.No, true, 3, "409 no points")]),
        new RecordPhaseTwo([new BranchProgress("g-1", "b1", Decision.Commit, true, 1, "", false), new BranchProgress("g-2", "x", Decision.Abort, false, 7, "503", true)]),
        new RetryTransaction("g-1") { IdempotencyKey = "retry-1" },
        new CommandBatch([new DecideTransaction("g-1", Decision.Commit, "ok", [new BranchVote("b1", Vote.Yes, false, 1, "")]), new RecordPhaseTwo([new BranchProgress("g-2", "b", Decision.Abort, true, 2, "", false)])]) { TimeMs = 9 },
        new CommandBatch([]),
        new CommandBatch([new KvPut("k", "v", 3) { IdempotencyKey = "key-1" }, new PayOrder(7), new KvDelete("k", null) { IdempotencyKey = "key-2" }]) { TimeMs = 11 },
        new TccBarrier("g-1", "b1", BarrierOperation.Cancel),
        new PublishMessage("stock", "order-7", "{\"sku\":\"apple\",\"deduct\":2,\"note\":\"ü ✓\"}") { TimeMs = 12, IdempotencyKey = "msg-1" },
        new PublishMessage("points", null, "[]"),
        new PlaceOrderWithMessage("alice", "tok-2", [new OrderItem("apple", 2)], 60_000, "stock", null, "{\"deduct\":2}") { IdempotencyKey = "order-2" },
        new PlaceOrderWithMessage("bob", null, [], 1_000, "t", "k", "null"),
        new AckConsumer("stock-service", 42),
        new AckConsumer("c", long.MaxValue),
        new MoveConsumer("stock-service", 0) { IdempotencyKey = "move-1" },
        new DeleteConsumer("stock-service"),
        new CommandBatch([new PublishMessage("stock", "k", "1") { IdempotencyKey = "b-1" }, new AckConsumer("c", 1)]) { TimeMs = 13 },
        new BindMember("http://127.0.0.1:7104", "5f0c2a9e41d7b386") { TimeMs = 14 },
        new BindMember("", ""),
    ];
}
