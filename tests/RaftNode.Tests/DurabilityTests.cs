namespace RaftMall.Node.Tests;

/// <summary>
/// Followers flush what they append before they acknowledge it (DotNext 6.12 does not on its own: docs/dotnext.md,
/// "The durability gap"). The fix sits on the append path of the log; this keeps it there.
/// </summary>
public class DurabilityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)] // the setting that turns it off shows the count is the fix's, not something else's
    public async Task Followers_flush_replicated_appends_when_durable_follower_appends_is_on(bool durable)
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["DurableFollowerAppends"] = durable ? "true" : "false" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        for (var i = 0; i < 20; i++) (await cluster.SendAsync(HttpMethod.Put, leader, $"/api/kv/durable-{i}", new { value = "v" })).Dispose();

        foreach (var follower in cluster.NodeIds.Where(id => id != leader))
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            ClusterStatus? status;
            do
            {
                status = await cluster.StatusAsync(follower);
                if (status is not null && status.AppliedIndex >= (await cluster.StatusAsync(leader))!.CommitIndex) break;
                await Task.Delay(100);
            }
            while (DateTime.UtcNow < deadline);
            Assert.NotNull(status);
            Assert.Equal(durable, status.Stats.DurableFollowerAppends);
            if (durable) Assert.True(status.Stats.FollowerFlushes > 0, $"{follower} applied {status.AppliedIndex} entries and flushed none");
            else Assert.Equal(0, status.Stats.FollowerFlushes);
        }
    }
}
