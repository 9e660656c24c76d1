using System.Buffers.Binary;
using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine.Tests.Codec;

public class SnapshotCodecTests
{
    /// <summary>A state with every table filled: many orders in every status, tokens, kv, transactions, barriers, keys, events.</summary>
    internal static MallStateMachine LargeState(int orders)
    {
        var state = new MallStateMachine(retainedEvents: 10_000);
        var time = 1_000L;
        for (var s = 0; s < 20; s++) state.Apply(new SetStock($"sku-{s}", 1_000_000) { TimeMs = time });
        for (var i = 0; i < orders; i++)
        {
            time++;
            var user = $"user-{i % 997}";
            string? token = null;
            if (i % 3 == 0)
            {
                token = $"tok-{i}";
                state.Apply(new IssueToken(token, user, time + 3_600_000) { TimeMs = time });
            }
            var placed = (OrderResult)state.Apply(new PlaceOrder(user, token, [new OrderItem($"sku-{i % 20}", 1 + (i % 5)), new OrderItem($"sku-{(i + 7) % 20}", 1)], i % 2 == 0 ? 5_000 : 600_000)
            {
                TimeMs = time,
                IdempotencyKey = i % 10 == 0 ? $"idem-{i}" : null,
            });
            if (i % 4 == 1) state.Apply(new PayOrder(placed.Order.OrderId) { TimeMs = time });
            if (i % 4 == 2) state.Apply(new CancelOrder(placed.Order.OrderId) { TimeMs = time });
            if (i % 50 == 0) state.Apply(new KvPut($"key/{i}", $"value-{i}", null) { TimeMs = time });
            if (i % 200 == 0)
            {
                state.Apply(new BeginTransaction($"g{i}", TransactionMode.Tcc, 60_000, [BranchSpec.Http("b1", "http://p/try", "http://p/confirm", "http://p/cancel"), BranchSpec.Stock("s1", "apple", 1)]) { TimeMs = time });
                state.Apply(new TccBarrier($"g{i}", "b1", BarrierOperation.Try) { TimeMs = time });
            }
            if (i % 1000 == 0) state.Apply(new ExpireDue { TimeMs = time });
        }
        return state;
    }

    [Fact]
    public void A_large_state_round_trips_byte_for_byte()
    {
        var state = LargeState(100_000);
        var snapshot = state.Snapshot();
        var restored = MallStateMachine.Restore(snapshot, retainedEvents: 10_000);

        Assert.Equal(snapshot, restored.Snapshot());
        Assert.Equal(state.OrderCount, restored.OrderCount);
        Assert.Equal(state.ListStock(), restored.ListStock());
        Assert.Equal(state.GetOrder(12_345)!.Status, restored.GetOrder(12_345)!.Status);
        Assert.Equal(state.LastEventSequence, restored.LastEventSequence);

        // Both go on identically: expiry order, ids and events agree.
        foreach (var s in new[] { state, restored })
        {
            s.Apply(new ExpireDue { TimeMs = 10_000_000 });
            s.Apply(new PlaceOrder("late", null, [new OrderItem("sku-1", 1)], 1_000) { TimeMs = 10_000_001 });
        }
        Assert.Equal(state.Snapshot(), restored.Snapshot());
    }

    [Fact]
    public void Restored_state_shares_sku_and_user_strings()
    {
        var restored = MallStateMachine.Restore(LargeState(1_000).Snapshot());
        Assert.Same(restored.GetOrder(1)!.Items[0].Sku, restored.GetOrder(21)!.Items[0].Sku);
    }

    [Fact]
    public void Corruption_is_caught_by_the_checksum()
    {
        var snapshot = LargeState(100).Snapshot();
        snapshot[snapshot.Length / 2] ^= 0x10;
        Assert.Contains("checksum", Assert.Throws<MallCodecException>(() => MallStateMachine.Restore(snapshot)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_magic_and_version_are_refused()
    {
        var snapshot = LargeState(10).Snapshot();
        var badMagic = (byte[])snapshot.Clone();
        badMagic[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<MallCodecException>(() => MallStateMachine.Restore(badMagic)).Message, StringComparison.Ordinal);
        var badVersion = (byte[])snapshot.Clone();
        badVersion[4] = 1; // the previous version: its transaction records have another shape
        Assert.Contains("version", Assert.Throws<MallCodecException>(() => MallStateMachine.Restore(badVersion)).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The bytes an older node wrote for a state without messages, consumers, subscriptions or member identities: the
    /// current version minus its member section (version 6), minus its subscription section too (version 5), and minus
    /// its consumer section too (versions 3 and 4), each an empty count of one byte before the checksum, with the version
    /// byte and the checksum of <paramref name="version"/>.
    /// </summary>
    private static byte[] AsOldVersion(byte[] current, byte version)
    {
        // Version 6 lacks the member count, 5 the subscription count too, 3 and 4 the consumer count too (all 0 here):
        // drop them, seal again.
        var dropped = version switch { 6 => 1, 5 => 2, _ => 3 };
        Assert.All(current[^(8 + dropped)..^8], b => Assert.Equal(0, b));
        var old = current[..^dropped];
        old[4] = version;
        var body = old.AsSpan(0, old.Length - 8);
        var checksum = version == 3 ? Fnv1a64.Hash(body) : System.IO.Hashing.XxHash3.HashToUInt64(body);
        BinaryPrimitives.WriteUInt64LittleEndian(old.AsSpan(old.Length - 8), checksum);
        return old;
    }

    [Theory]
    [InlineData(3)] // FNV-1a 64 checksum
    [InlineData(4)] // XxHash3, no messages and no consumers
    [InlineData(5)] // no subscriptions, no member identities
    [InlineData(6)] // no member identities
    public void Older_snapshot_versions_are_still_read(byte version)
    {
        var state = LargeState(100);
        var current = state.Snapshot();
        Assert.Equal(MallStateMachine.SnapshotVersion, current[4]);
        var old = AsOldVersion(current, version);

        var restored = MallStateMachine.Restore(old);
        Assert.Equal(current, restored.Snapshot());
        Assert.Empty(restored.ListConsumers());
        // The restored state goes on into the new tables.
        Assert.IsType<MessageResult>(restored.Apply(new PublishMessage("stock", null, "{}") { TimeMs = 10_000_000 }));
        Assert.IsType<ConsumerResult>(restored.Apply(new AckConsumer("c", restored.LastEventSequence) { TimeMs = 10_000_000 }));
        Assert.Empty(restored.ListSubscriptions());
        var spec = new SubscriptionSpec("s", "http://127.0.0.1:9/in", ["stock"], [], 1_000, 10, 3);
        Assert.IsType<SubscriptionResult>(restored.Apply(new CreateSubscription(spec, null) { TimeMs = 10_000_000 }));
        Assert.Equal(restored.Snapshot(), MallStateMachine.Restore(restored.Snapshot()).Snapshot());

        old[old.Length / 2] ^= 0x10;
        Assert.Contains("checksum", Assert.Throws<MallCodecException>(() => MallStateMachine.Restore(old)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Messages_and_consumers_round_trip_and_replay_to_the_same_bytes()
    {
        var commands = new List<MallCommand> { new SetStock("apple", 100) { TimeMs = 1 } };
        for (var i = 0; i < 300; i++)
        {
            commands.Add(i % 2 == 0
                ? new PlaceOrderWithMessage($"u{i}", null, [new OrderItem("apple", 1)], 60_000, "stock", $"o{i}", $$"""{"deduct":1,"i":{{i}}}""") { TimeMs = 10 + i, IdempotencyKey = $"k{i}" }
                : new PublishMessage("points", null, $$"""{"points":{{i}},"text":"ü ✓ "quoted""}""") { TimeMs = 10 + i });
            if (i % 7 == 0) commands.Add(new AckConsumer($"c{i % 3}", i) { TimeMs = 10 + i });
        }
        var original = new MallStateMachine(retainedEvents: 256);
        foreach (var c in commands) original.Apply(c);
        Assert.True(original.FirstRetainedEventSequence > 1, "the ring wrapped, so the snapshot holds a trimmed outbox");

        var snapshot = original.Snapshot();
        var restored = MallStateMachine.Restore(snapshot, retainedEvents: 256);
        Assert.Equal(snapshot, restored.Snapshot());
        Assert.Equal(original.ListConsumers(), restored.ListConsumers());
        var last = restored.ReadEvents(restored.LastEventSequence - 1, 1).Single();
        Assert.Equal(EventKind.Message, last.Kind);
        Assert.Equal(original.ReadEvents(0, 1000), restored.ReadEvents(0, 1000));

        // Replaying the same log into a fresh instance gives the same bytes, and a retried keyed write returns its first message.
        var replayed = new MallStateMachine(retainedEvents: 256);
        foreach (var c in commands) replayed.Apply(CommandCodec.Decode(CommandCodec.Encode(c)));
        Assert.Equal(snapshot, replayed.Snapshot());
        var retry = (OrderWithMessageResult)restored.Apply(commands[1]);
        Assert.Equal(1, retry.Order.OrderId);
        Assert.Equal("o0", retry.Message.Detail);
        Assert.Equal(snapshot.Length, restored.Snapshot().Length);
    }
}
