using FsCheck.Xunit;
using RaftMall.StateMachine.Codec;
using RaftMall.StateMachine.Tests.Scenarios;

namespace RaftMall.StateMachine.Tests.Properties;

/// <summary>Rules checked after every step of thousands of generated histories.</summary>
public class InvariantProperties
{
    [Property(Arbitrary = [typeof(CommandGenerators)], MaxTest = 3000)]
    public void Every_rule_holds_after_every_step(CommandSequence sequence)
    {
        var state = new MallStateMachine(retainedEvents: 50);
        var totals = new Dictionary<string, long>();
        var sold = new Dictionary<string, long>();
        var closedOrders = new Dictionary<long, OrderStatus>();
        var decisions = new Dictionary<string, Decision>();
        var tokenOrders = new Dictionary<string, long>(); // token issuance -> the one order it placed
        var firstAnswers = new Dictionary<string, (ulong Fingerprint, string Answer)>();
        var barriers = new Dictionary<(string, string), BarrierState>();
        var barrierEffects = new HashSet<(string, string, BarrierOperation)>();

        foreach (var command in sequence.Commands)
        {
            var replay = command.IdempotencyKey is { } k && state.HasIdempotencyKey(k);
            var result = state.Apply(command);
            state.CheckInvariants();

            // Stock: available + locked + sold changes only by set-available; sold never goes down.
            foreach (var stock in state.ListStock())
            {
                if (command is SetStock set && set.Sku == stock.Sku && result.IsSuccess) totals[stock.Sku] = stock.Total;
                Assert.Equal(totals[stock.Sku], stock.Total);
                Assert.True(stock.Sold >= sold.GetValueOrDefault(stock.Sku), "paid stock is never released");
                sold[stock.Sku] = stock.Sold;
            }

            // Orders: once closed, an order's status never changes.
            for (var id = 1L; id <= state.OrderCount; id++)
            {
                var order = state.GetOrder(id)!;
                if (closedOrders.TryGetValue(id, out var closed)) Assert.Equal(closed, order.Status);
                else if (order.Status != OrderStatus.Pending) closedOrders[id] = order.Status;
            }

            // Tokens: one issuance places at most one order.
            if (command is IssueToken issued && result.IsSuccess) tokenOrders.Remove(issued.Token);
            if (command is PlaceOrder { Token: { } token } && result is OrderResult placed)
            {
                if (tokenOrders.TryGetValue(token, out var earlier)) Assert.Equal(earlier, placed.Order.OrderId);
                tokenOrders[token] = placed.Order.OrderId;
            }

            // Decisions never flip.
            foreach (var gid in new[] { "g1", "g2", "g3" })
            {
                if (state.GetTransaction(gid) is not { IsDecided: true } txn) continue;
                if (decisions.TryGetValue(gid, out var decided)) Assert.Equal(decided, txn.Decision);
                decisions[gid] = txn.Decision;
            }

            // Barrier: a cancelled branch never becomes tried or confirmed; a confirmed one is never cancelled;
            // each effect happens at most once; a cancel compensates only a real try.
            if (command is TccBarrier b && result is BarrierResult br && !replay)
            {
                var key = (b.Gid, b.BranchId);
                var had = barriers.TryGetValue(key, out var before);
                if (had && before is BarrierState.Cancelled or BarrierState.EmptyRollback)
                {
                    Assert.True(br.State is BarrierState.Cancelled or BarrierState.EmptyRollback);
                }
                if (had && before == BarrierState.Confirmed) Assert.Equal(BarrierState.Confirmed, br.State);
                if (br.Effective) Assert.True(barrierEffects.Add((b.Gid, b.BranchId, b.Operation)), "a barrier effect happens once");
                if (br.Effective && b.Operation == BarrierOperation.Cancel) Assert.Equal(BarrierState.Tried, before);
                barriers[key] = br.State;
            }
            if (!replay && command is TccBarrier { Operation: BarrierOperation.Try } t && barriers.GetValueOrDefault((t.Gid, t.BranchId)) is BarrierState.Cancelled or BarrierState.EmptyRollback)
            {
                Assert.False(result is BarrierResult { Effective: true }, "a try after cancel never takes effect");
            }

            // Idempotency: a repeated key with the same request gets the first answer.
            if (command.IdempotencyKey is { } idempotencyKey)
            {
                var fingerprint = CommandCodec.Fingerprint(command);
                var answer = ScenarioRunner.Format(result);
                if (firstAnswers.TryGetValue(idempotencyKey, out var first))
                {
                    if (first.Fingerprint == fingerprint) Assert.Equal(first.Answer, answer);
                    else Assert.Equal("error idempotency_key_reused", answer);
                }
                else
                {
                    firstAnswers[idempotencyKey] = (fingerprint, answer);
                }
            }
        }
    }

    [Property(Arbitrary = [typeof(CommandGenerators)], MaxTest = 1000)]
    public void A_replayed_idempotency_key_changes_nothing(CommandSequence sequence)
    {
        var state = new MallStateMachine(retainedEvents: 50);
        foreach (var command in sequence.Commands)
        {
            var seen = command.IdempotencyKey is { } key && state.HasIdempotencyKey(key);
            var before = (state.OrderCount, state.KvRevision, state.LastEventSequence, Stock: string.Join(',', state.ListStock()));
            state.Apply(command);
            if (!seen) continue;
            Assert.Equal(before, (state.OrderCount, state.KvRevision, state.LastEventSequence, Stock: string.Join(',', state.ListStock())));
        }
    }
}
