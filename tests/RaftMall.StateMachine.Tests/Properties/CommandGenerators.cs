using FsCheck;
using FsCheck.Fluent;

namespace RaftMall.StateMachine.Tests.Properties;

/// <summary>A generated history: commands over a small domain (few skus, users, tokens, keys, transactions), so that they collide often.</summary>
public sealed record CommandSequence(MallCommand[] Commands)
{
    public override string ToString() => $"{Commands.Length} commands: " + string.Join("; ", Commands.Select(c => c.ToString()));
}

/// <summary>FsCheck generators for <see cref="CommandSequence"/>; register with <c>[Property(Arbitrary = [typeof(CommandGenerators)])]</c>.</summary>
public static class CommandGenerators
{
    private static readonly string[] Skus = ["apple", "pear", "plum"];
    private static readonly string[] Users = ["u1", "u2", "u3"];
    private static readonly string[] Tokens = ["t1", "t2", "t3", "t4"];
    private static readonly string[] Keys = ["k1", "k2"];
    private static readonly string[] Gids = ["g1", "g2", "g3"];
    private static readonly string[] Branches = ["b1", "b2"];
    private static readonly string[] IdempotencyKeys = ["i1", "i2", "i3"];
    private static readonly string[] Consumers = ["stock-service", "points"];
    private static readonly string[] Subscriptions = ["stock", "all"];

    public static Arbitrary<CommandSequence> Sequences() => Arb.From(SequenceGen(), Shrink);

    public static Gen<CommandSequence> SequenceGen() =>
        from length in Gen.Choose(1, 120)
        from steps in Gen.ArrayOf(StepGen(), length)
        select new CommandSequence(Stamp(steps));

    // Time advances by a generated amount per step (sometimes 0, sometimes backwards, as a new leader's clock might).
    private static MallCommand[] Stamp((MallCommand Command, int TimeStepMs, string? Key)[] steps)
    {
        var time = 1_000L;
        var commands = new MallCommand[steps.Length];
        for (var i = 0; i < steps.Length; i++)
        {
            time += steps[i].TimeStepMs;
            var command = steps[i].Command;
            if (command is IssueToken token) command = token with { ExpiresAtMs = time + token.ExpiresAtMs }; // generated relative
            commands[i] = command with { TimeMs = time, IdempotencyKey = steps[i].Key };
        }
        return commands;
    }

    private static Gen<(MallCommand, int, string?)> StepGen() =>
        from command in CommandGen()
        from timeStep in Gen.Frequency((6, Gen.Choose(0, 400)), (1, Gen.Choose(-300, 0)), (1, Gen.Choose(1_000, 5_000)))
        from key in Gen.Frequency((5, Gen.Constant<string?>(null)), (1, Gen.Elements(IdempotencyKeys).Select(k => (string?)k)))
        select (command, timeStep, key);

    private static Gen<MallCommand> CommandGen() => Gen.Frequency(
        (3, from sku in Gen.Elements(Skus) from n in Gen.Choose(0, 20) select (MallCommand)new SetStock(sku, n)),
        (2, from t in Gen.Elements(Tokens)
            from u in Gen.Elements(Users)
            from ttl in Gen.Choose(-100, 3_000)
            select (MallCommand)new IssueToken(t, u, ttl)),
        (6, from u in Gen.Elements(Users)
            from t in Gen.Frequency((1, Gen.Constant<string?>(null)), (2, Gen.Elements(Tokens).Select(x => (string?)x)))
            from items in Gen.SubListOf(Skus).Where(s => s.Count > 0)
            from qty in Gen.Choose(0, 6)
            from ttl in Gen.Elements(1_000L, 2_000L, 5_000L, 500L)
            select (MallCommand)new PlaceOrder(u, t, [.. items.Select((s, i) => new OrderItem(s, qty + i))], ttl)),
        (3, Gen.Choose(0, 12).Select(id => (MallCommand)new PayOrder(id))),
        (2, Gen.Choose(0, 12).Select(id => (MallCommand)new CancelOrder(id))),
        (2, Gen.Constant((MallCommand)new ExpireDue())),
        (2, from k in Gen.Elements(Keys)
            from v in Gen.Choose(0, 99)
            from cas in Gen.Frequency((2, Gen.Constant<long?>(null)), (1, Gen.Choose(0, 8).Select(r => (long?)r)))
            select (MallCommand)new KvPut(k, v.ToString(System.Globalization.CultureInfo.InvariantCulture), cas)),
        (1, from k in Gen.Elements(Keys)
            from cas in Gen.Frequency((2, Gen.Constant<long?>(null)), (1, Gen.Choose(0, 8).Select(r => (long?)r)))
            select (MallCommand)new KvDelete(k, cas)),
        (2, from g in Gen.Elements(Gids)
            from mode in Gen.Elements(TransactionMode.Tcc, TransactionMode.TwoPhase, TransactionMode.Saga)
            from timeout in Gen.Choose(100, 3_000)
            from branches in Gen.SubListOf(Branches)
            from sku in Gen.Elements(Skus)
            from qty in Gen.Choose(1, 4)
            from builtIn in Gen.Elements(0, 1, 2)
            select (MallCommand)new BeginTransaction(g, mode, timeout, [.. branches.Select(b => Http(b, mode)), .. BuiltIns(builtIn, sku, qty)])),
        (1, from g in Gen.Elements(Gids) from b in Gen.Elements(Branches) select (MallCommand)new RegisterBranch(g, Http(b, TransactionMode.Tcc))),
        (3, from g in Gen.Elements(Gids)
            from b in Gen.Elements(Branches)
            from v in Gen.Elements(Vote.Yes, Vote.Yes, Vote.No)
            select (MallCommand)new RecordVote(g, b, v)),
        (3, from g in Gen.Elements(Gids)
            from d in Gen.Elements(Decision.Commit, Decision.Abort)
            from votes in Gen.SubListOf(Branches)
            from v in Gen.Elements(Vote.Yes, Vote.Yes, Vote.No)
            select (MallCommand)new DecideTransaction(g, d, "gen", [.. votes.Select(b => new BranchVote(b, v, v == Vote.No, 1, ""))])),
        (3, from items in Gen.NonEmptyListOf(
                from g in Gen.Elements(Gids)
                from b in Gen.Elements(Branches)
                from phase in Gen.Elements(Decision.Commit, Decision.Abort)
                from done in Gen.Elements(true, true, false)
                from attempts in Gen.Choose(1, 6)
                select new BranchProgress(g, b, phase, done, attempts, done ? "" : "503", attempts > 4))
            select (MallCommand)new RecordPhaseTwo([.. items.Take(4)])),
        (1, Gen.Elements(Gids).Select(g => (MallCommand)new RetryTransaction(g))),
        (4, from g in Gen.Elements(Gids)
            from b in Gen.Elements(Branches)
            from op in Gen.Elements(BarrierOperation.Try, BarrierOperation.Confirm, BarrierOperation.Cancel)
            select (MallCommand)new TccBarrier(g, b, op)),
        (2, from topic in Gen.Elements("stock", "points", "")
            from payload in Gen.Elements("{\"n\":1}", "[1,2]", "{bad")
            select (MallCommand)new PublishMessage(topic, topic.Length == 0 ? null : "k", payload)),
        (2, from u in Gen.Elements(Users)
            from sku in Gen.Elements(Skus)
            from qty in Gen.Choose(0, 4)
            from payload in Gen.Elements("{\"deduct\":1}", "nope")
            select (MallCommand)new PlaceOrderWithMessage(u, null, [new OrderItem(sku, qty)], 2_000, "stock", null, payload)),
        (2, from c in Gen.Elements(Consumers)
            from seq in Gen.Choose(-1, 40)
            from move in Gen.Elements(0, 0, 1, 2)
            select move switch
            {
                0 => (MallCommand)new AckConsumer(c, seq),
                1 => new MoveConsumer(c, seq),
                _ => new DeleteConsumer(c),
            }),
        // Subscriptions: creates (from a generated start), the leader's progress records under generated generations,
        // the operator's retry, resume and drop; with a small outbox, suspension at its bound happens often.
        (3, from name in Gen.Elements(Subscriptions)
            from operation in Gen.Choose(0, 6)
            from sequence in Gen.Choose(-1, 60)
            from generation in Gen.Choose(0, 4)
            from failing in Gen.Elements(false, true)
            select operation switch
            {
                0 => (MallCommand)new CreateSubscription(new SubscriptionSpec(name, "http://s/" + name, name == "stock" ? ["stock"] : [],
                    name == "stock" ? [] : ["message", "stockSet"], 1_000, 10, 3), sequence < 0 ? null : sequence),
                1 or 2 or 3 => new RecordSubscriptionProgress([new SubscriptionProgress(name, generation, sequence, failing ? 3 : 0, failing ? "503" : "", failing)]),
                4 => new RetrySubscription(name),
                5 => new ResumeSubscription(name, sequence),
                _ => new DeleteSubscription(name),
            }));

    private static BranchSpec Http(string branchId, TransactionMode mode) =>
        BranchSpec.Http(branchId, "http://p/" + branchId + "/1", mode == TransactionMode.Saga ? "" : "http://p/" + branchId + "/2", "http://p/" + branchId + "/3");

    private static BranchSpec[] BuiltIns(int which, string sku, int quantity) => which switch
    {
        1 => [BranchSpec.Stock("s", sku, quantity)],
        2 => [BranchSpec.Order("o", "u1", [new OrderItem(sku, quantity)])],
        _ => [],
    };

    // Shrink by dropping chunks, then single commands: the smallest failing history is what a reader wants.
    private static IEnumerable<CommandSequence> Shrink(CommandSequence sequence)
    {
        var commands = sequence.Commands;
        for (var chunk = commands.Length / 2; chunk >= 1; chunk /= 2)
        {
            for (var start = 0; start + chunk <= commands.Length; start += chunk)
            {
                yield return new CommandSequence([.. commands[..start], .. commands[(start + chunk)..]]);
            }
        }
    }
}
