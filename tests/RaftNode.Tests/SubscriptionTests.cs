using System.Diagnostics;
using System.Text.Json;
using RaftMall.Client;

namespace RaftMall.Node.Tests;

/// <summary>
/// Push subscriptions with real node processes and a real HTTP subscriber on 127.0.0.1: a subscriber down for a while
/// gets everything once it is back, in order; a leader killed during delivery loses and reorders nothing (duplicates
/// only, absorbed by the subscriber's dedup table); a subscriber that fails for ever is marked stuck without delaying
/// another subscription, and an operator's retry delivers once it recovers; at the outbox's bound a lagging
/// subscription is suspended visibly (listed, alarm in the log) until an operator resumes it.
/// </summary>
public class SubscriptionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_subscriber_down_for_a_while_receives_everything_after_it_returns_in_order()
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["SubscriptionRetryMaxMs"] = "500" });
        await cluster.StartAllAsync();
        await using var subscriber = await TestSubscriber.StartAsync();
        using var client = new RaftMallClient(cluster.ClientOptions());
        await client.CreateSubscriptionAsync(new SubscriptionRequest("stock", subscriber.Url("stock"), ["stock"], null, 1_000, 10, 5, null));

        var published = await PublishAsync(client, 20, "stock");
        await WaitAsync(() => subscriber.Applied("stock").Count == 20, "the first 20 delivered");

        await subscriber.StopAsync();
        cluster.Log("subscriber down");
        published.AddRange(await PublishAsync(client, 30, "stock"));
        await WaitAsync(async () => (await client.GetSubscriptionAsync("stock")).Attempts >= 3, "failed attempts recorded while it is down");
        var down = await client.GetSubscriptionAsync("stock");
        Assert.Contains("ConnectionError", down.LastError, StringComparison.Ordinal);
        Assert.Equal(20, subscriber.Applied("stock").Count);

        await subscriber.ListenAsync();
        cluster.Log("subscriber back");
        await WaitAsync(() => subscriber.Applied("stock").Count == 50, "everything delivered once it is back");
        Assert.Equal(published, subscriber.Applied("stock"));
        Assert.All(subscriber.Calls("stock"), c => Assert.Equal(c.Sequences.Order(), c.Sequences));
        await WaitAsync(async () => (await client.GetSubscriptionAsync("stock")) is { Position: var p, Attempts: 0 } && p == published[^1], "the last position recorded");
    }

    [Fact]
    public async Task A_leader_killed_during_delivery_loses_and_reorders_nothing_only_duplicates()
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["SubscriptionRetryMaxMs"] = "500", ["SubscriptionCommitMs"] = "200" });
        await cluster.StartAllAsync();
        await using var subscriber = await TestSubscriber.StartAsync();
        subscriber.Delay = TimeSpan.FromMilliseconds(100); // 12 batches of 5 take over a second: the leader dies during delivery
        using var client = new RaftMallClient(cluster.ClientOptions(TimeSpan.FromSeconds(20)));
        await client.CreateSubscriptionAsync(new SubscriptionRequest("stock", subscriber.Url("stock"), ["stock"], null, 1_000, 5, 10, null));

        var published = await PublishAsync(client, 60, "stock");
        var leader = await cluster.WaitForLeaderAsync();
        var appliedAtKill = subscriber.Applied("stock").Count;
        cluster.Log($"kill -9 of leader {leader} with {appliedAtKill} of 60 applied");
        cluster.Kill(leader);
        Assert.InRange(appliedAtKill, 0, 59);
        published.AddRange(await PublishAsync(client, 40, "stock"));
        Assert.NotEqual(leader, await cluster.WaitForLeaderAsync(not: leader));

        await WaitAsync(() => subscriber.Applied("stock").Count == published.Count, "every message delivered through the new leader");
        cluster.Start(leader);
        Assert.Equal(published, subscriber.Applied("stock")); // nothing lost, first deliveries in outbox order
        Assert.All(subscriber.Calls("stock"), c => Assert.Equal(c.Sequences.Order(), c.Sequences));
        cluster.Log($"duplicates absorbed: {subscriber.Duplicates("stock")}");
    }

    [Fact]
    public async Task A_subscriber_failing_for_ever_is_stuck_without_delaying_another_and_an_operator_retry_delivers_once_it_recovers()
    {
        // A long cap: once stuck, only the operator's retry calls it again within the test.
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string>
        {
            ["SubscriptionRetryInitialMs"] = "50",
            ["SubscriptionRetryMaxMs"] = "60000",
        });
        await cluster.StartAllAsync();
        await using var subscriber = await TestSubscriber.StartAsync();
        var broken = true;
        subscriber.Fails = name => name == "broken" && broken;
        using var client = new RaftMallClient(cluster.ClientOptions());
        await client.CreateSubscriptionAsync(new SubscriptionRequest("broken", subscriber.Url("broken"), ["stock"], null, 1_000, 10, 3, null));
        await client.CreateSubscriptionAsync(new SubscriptionRequest("healthy", subscriber.Url("healthy"), ["stock"], null, 1_000, 10, 3, null));

        var clock = Stopwatch.StartNew();
        var published = await PublishAsync(client, 30, "stock");
        await WaitAsync(() => subscriber.Applied("healthy").Count == 30, "the healthy subscription delivered");
        output.WriteLine($"healthy subscription delivered 30 in {clock.ElapsedMilliseconds} ms while the other failed");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the healthy subscription waited");
        Assert.Equal(published, subscriber.Applied("healthy"));

        await WaitAsync(async () => (await client.GetSubscriptionAsync("broken")).State == "stuck", "the broken one marked stuck");
        var stuck = await client.GetSubscriptionAsync("broken");
        Assert.True(stuck.Attempts >= 3, $"{stuck.Attempts} attempts");
        Assert.StartsWith("500", stuck.LastError, StringComparison.Ordinal);
        var list = await CliProcess.RunAsync(cluster.ConfigPath, "subscription", "list");
        Assert.True(list.ExitCode == 4, list.All); // a stuck subscription fails the listing's check
        Assert.Contains("stuck", list.Output, StringComparison.Ordinal);

        broken = false;
        var termBefore = await TermAsync(cluster);
        var callsBeforeRetry = subscriber.Calls("broken").Count;
        var retry = await CliProcess.RunAsync(cluster.ConfigPath, "subscription", "retry", "broken");
        Assert.True(retry.ExitCode == 0, retry.All);
        clock.Restart();
        await WaitAsync(() => subscriber.Applied("broken").Count == 30, "delivered after the operator's retry");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the retry waited for the 60 s backoff");
        Assert.Equal(published, subscriber.Applied("broken"));
        // A new leader calls every subscription at once, stuck ones too (going on from the recorded attempts): only
        // without one in between is the first call after the retry the retry's own, attempt 1.
        if (await TermAsync(cluster) == termBefore) Assert.Equal(1, subscriber.Calls("broken")[callsBeforeRetry].Attempt);
        else output.WriteLine("the leader changed during the retry: its first call is not the retry's");
        await WaitAsync(async () => (await client.GetSubscriptionAsync("broken")).State == "active", "the retried subscription active again");
    }

    [Fact]
    public async Task At_the_bound_a_lagging_subscription_is_suspended_visibly_and_delivers_again_once_an_operator_resumes_it()
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["RetainedEvents"] = "40", ["SubscriptionRetryMaxMs"] = "200" });
        await cluster.StartAllAsync();
        await using var subscriber = await TestSubscriber.StartAsync();
        var failing = true;
        subscriber.Fails = _ => failing;
        using var client = new RaftMallClient(cluster.ClientOptions());
        await client.CreateSubscriptionAsync(new SubscriptionRequest("lagging", subscriber.Url("lagging"), ["stock"], null, 1_000, 100, 1_000, null));

        var published = await PublishAsync(client, 50, "stock"); // the outbox keeps 40: the first 10 go
        var suspended = await client.GetSubscriptionAsync("lagging");
        Assert.Equal("suspended", suspended.State);
        Assert.Equal(published[0], suspended.SuspendedAtSequence);
        var leader = await cluster.WaitForLeaderAsync();
        await WaitAsync(() => File.ReadAllText(cluster.LogPath(leader)).Contains("ALARM subscription lagging is suspended", StringComparison.Ordinal), "the alarm in the leader's log");

        var list = await CliProcess.RunAsync(cluster.ConfigPath, "subscription", "list");
        Assert.True(list.ExitCode == 4, list.All);
        Assert.Contains($"subscription resume lagging {suspended.FirstRetainedSequence - 1}", list.All, StringComparison.Ordinal);

        failing = false;
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(subscriber.Applied("lagging")); // suspended: nothing is delivered, not even what is still kept
        var resume = await CliProcess.RunAsync(cluster.ConfigPath, "subscription", "resume", "lagging", $"{suspended.FirstRetainedSequence - 1}");
        Assert.True(resume.ExitCode == 0, resume.All);
        await WaitAsync(() => subscriber.Applied("lagging").Count == 40, "the kept events delivered after the resume");
        Assert.Equal(published.Skip(10), subscriber.Applied("lagging"));
    }

    private static async Task<long> TermAsync(TestCluster cluster) => (await cluster.StatusAsync(await cluster.WaitForLeaderAsync()))!.Term;

    /// <summary>Publishes <paramref name="count"/> messages one after the other; returns their sequences.</summary>
    private static async Task<List<long>> PublishAsync(RaftMallClient client, int count, string topic)
    {
        var sequences = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var message = await client.PublishAsync(topic, $"k{i}", JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["n"] = i }));
            sequences.Add(message.Sequence);
        }
        return sequences;
    }

    private static Task WaitAsync(Func<bool> done, string what) => WaitAsync(() => Task.FromResult(done()), what);

    private static async Task WaitAsync(Func<Task<bool>> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            Assert.True(clock.Elapsed < Patience, $"not within {Patience.TotalSeconds} s: {what}");
            await Task.Delay(50);
        }
    }
}
