using RaftMall.Node.Drivers;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>ExpiryDriver: the leader expires what is due with its own clock; a follower proposes nothing.</summary>
public sealed class ExpiryTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    /// <summary>The step while only time passes on a follower, where nothing may happen (every timer due still fires at each step).</summary>
    private static readonly TimeSpan QuietStep = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task An_unpaid_order_expires_once_its_ttl_has_passed_on_the_leaders_clock_and_its_stock_is_released()
    {
        var node = new Node();
        var orderId = await PlaceAsync(node, ttlMs: 2_000);
        using var expiry = new ExpiryDriver(node.Consensus, node.State, node.Proposer, node.Settings, node.Time, Node.Log<ExpiryDriver>());
        await expiry.StartAsync(CancellationToken.None);

        await node.RunUntilAsync(() => node.Time.GetUtcNow() >= Placed(node) + TimeSpan.FromMilliseconds(1_900), Step, TimeSpan.FromSeconds(3), "1.9 s");
        Assert.Equal(OrderStatus.Pending, node.State.Read(s => s.GetOrder(orderId))!.Status);
        Assert.DoesNotContain(node.Consensus.Proposed, c => c is ExpireDue);

        await node.RunUntilAsync(() => node.State.Read(s => s.GetOrder(orderId))!.Status == OrderStatus.Expired, Step, TimeSpan.FromSeconds(2), "the order expiring");
        Assert.True(node.Time.GetUtcNow() >= Placed(node) + TimeSpan.FromSeconds(2));
        Assert.Equal((10, 0L), node.State.Read(s => (s.GetStock("apple")!.Value.Available, s.GetStock("apple")!.Value.Locked)));
        await expiry.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_follower_expires_nothing()
    {
        var node = new Node();
        var orderId = await PlaceAsync(node, ttlMs: 1_000);
        node.Consensus.LeaderIs(node.Member("n2"));
        var proposedBefore = node.Consensus.Proposed.Count;
        using var expiry = new ExpiryDriver(node.Consensus, node.State, node.Proposer, node.Settings, node.Time, Node.Log<ExpiryDriver>());
        await expiry.StartAsync(CancellationToken.None);

        await node.RunUntilAsync(() => node.Time.GetUtcNow() >= Placed(node) + TimeSpan.FromSeconds(3), QuietStep, TimeSpan.FromSeconds(4), "3 s");
        Assert.Equal(proposedBefore, node.Consensus.Proposed.Count);
        Assert.Equal(OrderStatus.Pending, node.State.Read(s => s.GetOrder(orderId))!.Status);
        await expiry.StopAsync(CancellationToken.None);
    }

    private static DateTimeOffset Placed(Node node) => DateTimeOffset.FromUnixTimeMilliseconds(node.State.Read(s => s.GetOrder(1)!.CreatedAtMs));

    private static async Task<long> PlaceAsync(Node node, long ttlMs)
    {
        await node.Proposer.ProposeAsync(new SetStock("apple", 10), CancellationToken.None);
        await node.Proposer.ProposeAsync(new PlaceOrder("alice", null, [new OrderItem("apple", 2)], ttlMs), CancellationToken.None);
        return node.State.Read(s => s.GetOrder(1)!.OrderId);
    }
}
