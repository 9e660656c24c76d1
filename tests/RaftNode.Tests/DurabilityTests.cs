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

    [Fact]
    public async Task A_node_stopped_with_sigterm_flushes_exits_without_an_error_and_comes_back_with_its_writes()
    {
        // Every graceful stop used to end in an unhandled ObjectDisposedException: the state machine host is
        // registered under two service types, and the container disposed it twice.
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        for (var i = 0; i < 10; i++) (await cluster.SendAsync(HttpMethod.Put, leader, $"/api/kv/stop-{i}", new { value = "v" })).Dispose();
        var follower = cluster.NodeIds.First(id => id != leader);
        var committed = (await cluster.StatusAsync(leader))!.CommitIndex;
        await cluster.WaitForStatusAsync(follower, s => s.AppliedIndex >= committed, "the follower applied the writes");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        cluster.Stop(follower, TimeSpan.FromSeconds(20));
        cluster.Log($"{follower} stopped {clock.ElapsedMilliseconds} ms after SIGTERM");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{follower} did not exit within 20 s of SIGTERM and was killed");
        var log = await File.ReadAllTextAsync(cluster.LogPath(follower));
        Assert.Contains("stopping; log flushed up to", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", log, StringComparison.Ordinal);

        cluster.Start(follower);
        var status = await cluster.WaitForStatusAsync(follower, s => s.AppliedIndex >= committed && s.LeaderId is not null, "the restarted follower applied the writes again");
        Assert.Equal("v", (await cluster.GetAsync<Contract.KvEntry>(follower, "/api/kv/stop-9?consistency=local")).Value);
        cluster.Log($"{follower} back: applied {status.AppliedIndex}, leader {status.LeaderId}");
    }
}
