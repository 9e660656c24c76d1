
namespace RaftMall.Client.Tests;

/// <summary>The client library's promise: a write retried across a leader kill is applied exactly once.</summary>
public class ClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_write_whose_answer_is_lost_when_the_leader_dies_is_retried_and_applied_once()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var endpoints = cluster.NodeIds.Select(cluster.Address).ToArray();

        // The leader commits the order and answers, and then dies before the answer reaches the client.
        using var dropping = new LoseAnswerAndKillLeader(cluster, leader);
        using var client = new RaftMallClient(new RaftMallClientOptions { Endpoints = endpoints, ApiKey = TestCluster.TestKeys.Admin }, dropping);
        await client.SetStockAsync("apple", 10);
        dropping.Armed = true;
        var order = await client.PlaceOrderAsync("carol", [new OrderLine("apple", 3)]);

        Assert.True(dropping.Fired, "the first answer was dropped and the leader killed");
        Assert.Equal(1, order.OrderId);
        await cluster.WaitForLeaderAsync(not: leader);
        using var reader = new RaftMallClient(new RaftMallClientOptions { Endpoints = endpoints, ApiKey = TestCluster.TestKeys.Admin });
        var orders = await reader.ListOrdersAsync();
        Assert.Single(orders.Orders);
        Assert.Equal(new StockLevel("apple", 7, 3, 0), await reader.GetStockAsync("apple"));
    }

    [Fact]
    public async Task Problems_become_typed_exceptions_with_the_code()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        using var client = new RaftMallClient(cluster.ClientOptions());
        await client.SetStockAsync("apple", 1);
        var conflict = await Assert.ThrowsAsync<RaftMallConflictException>(() => client.PlaceOrderAsync("u", [new OrderLine("apple", 2)]));
        Assert.Equal("insufficient_stock", conflict.Code);
        var notFound = await Assert.ThrowsAsync<RaftMallNotFoundException>(() => client.GetOrderAsync(77));
        Assert.Equal("order_not_found", notFound.Code);
        var invalid = await Assert.ThrowsAsync<RaftMallValidationException>(() => client.PlaceOrderAsync("u", [new OrderLine("apple", 0)]));
        Assert.Equal("validation", invalid.Code);
        var cas = await Assert.ThrowsAsync<RaftMallConflictException>(() => client.PutAsync("k", "v", expectedRevision: 5));
        Assert.Equal("revision_mismatch", cas.Code);

        foreach (var id in cluster.NodeIds) cluster.Kill(id);
        using var impatient = new RaftMallClient(cluster.ClientOptions(TimeSpan.FromSeconds(1)));
        var down = await Assert.ThrowsAsync<RaftMallUnavailableException>(() => impatient.SetStockAsync("apple", 2, idempotencyKey: "key-1"));
        Assert.Contains("key-1", down.Message, StringComparison.Ordinal);
    }

    /// <summary>Passes the first armed order request through, then kills the leader and reports a lost connection instead of the answer.</summary>
    private sealed class LoseAnswerAndKillLeader(TestCluster cluster, string leader) : DelegatingHandler(new SocketsHttpHandler())
    {
        public bool Armed { get; set; }
        public bool Fired { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (Armed && !Fired && request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath == "/api/orders" && response.IsSuccessStatusCode)
            {
                Fired = true;
                response.Dispose();
                cluster.Kill(leader);
                throw new HttpRequestException("connection reset (simulated: the answer was lost)");
            }
            return response;
        }
    }
}
