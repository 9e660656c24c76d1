using System.Text.Json;
using RaftMall.Client;
using RaftMall.Client.Consumers;

namespace RaftMall.Node.Tests;

/// <summary>
/// The local message table with real node processes: orders placed with their "deduct stock" messages while a pull
/// consumer applies them through the dedup helper; the leader is killed, and the consumer crashes between applying a
/// page and acknowledging it and restarts from its committed position. Nothing is lost, nothing applied twice, and
/// the order of application is the order of the outbox.
/// </summary>
public class MessageConsumerTests(ITestOutputHelper output)
{
    private const string Consumer = "stock-service";
    private const int Orders = 60;

    [Fact]
    public async Task A_pull_consumer_restarts_from_its_committed_position_across_a_leader_kill_and_applies_every_message_once_in_order()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        using var producer = new RaftMallClient(cluster.ClientOptions(TimeSpan.FromSeconds(20)));
        await producer.SetStockAsync("apple", 1_000_000);

        var ledger = new StockLedger(); // the stock service's own store: it survives the consumer's crash
        var published = new List<PublishedMessage>();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        // Phase 1: a first batch, consumed and acknowledged by the first consumer process.
        published.AddRange(await PlaceAsync(producer, 0, Orders / 3));
        await using (var first = ConsumerOf(cluster))
        {
            await DrainAsync(first.Client, new MessageDeduplicator<StockLedger.Transaction>(ledger), published[^1].Sequence, stop.Token);
        }
        var committed = (await producer.GetConsumerAsync(Consumer)).Sequence;
        Assert.Equal(published[^1].Sequence, committed);

        // Phase 2: more orders; the consumer applies a page but crashes before its ack, then the leader is killed while orders go on.
        published.AddRange(await PlaceAsync(producer, Orders / 3, Orders / 3));
        await using (var crashing = ConsumerOf(cluster))
        {
            var page = await crashing.Client.ReadConsumerEventsAsync(Consumer, limit: 10, token: stop.Token);
            var dedup = new MessageDeduplicator<StockLedger.Transaction>(ledger);
            foreach (var e in page.Events.Where(e => e.Type == "message")) await dedup.HandleAsync(e, StockLedger.Apply, stop.Token);
            Assert.NotEmpty(page.Events); // ...and no ack: the process dies here
        }
        Assert.Equal(committed, (await producer.GetConsumerAsync(Consumer)).Sequence);

        var leader = await cluster.WaitForLeaderAsync();
        published.AddRange(await PlaceAsync(producer, 2 * Orders / 3, Orders / 3, afterEach: placed =>
        {
            if (placed != 5) return;
            cluster.Log($"kill -9 of leader {leader} after 5 orders of the last batch");
            cluster.Kill(leader);
        }));
        Assert.NotEqual(leader, await cluster.WaitForLeaderAsync(not: leader));

        // Phase 3: the restarted consumer resumes from the committed position through the new leader.
        int duplicates;
        await using (var restarted = ConsumerOf(cluster))
        {
            duplicates = await DrainAsync(restarted.Client, new MessageDeduplicator<StockLedger.Transaction>(ledger), published.Max(m => m.Sequence), stop.Token);
        }
        cluster.Start(leader);

        Assert.True(duplicates > 0, "the page applied before the crash was delivered again and absorbed by the dedup table");
        var expected = published.OrderBy(m => m.Sequence).Select(m => m.Id).ToList();
        Assert.Equal(Orders, expected.Count);
        Assert.Equal(expected, ledger.Applied()); // every message once, in outbox order
        Assert.Equal(published.Count * 2L, ledger.Deducted("apple"));
        var position = await producer.GetConsumerAsync(Consumer);
        Assert.Equal((published.Max(m => m.Sequence), 0L), (position.Sequence, position.MissedEvents));

        // The CLI resumes from the same committed position: a new message after it is all it prints, and then nothing.
        var late = await producer.PublishAsync("stock", "late", JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["sku"] = "apple", ["quantity"] = 1 }));
        var tail = await CliProcess.RunAsync(cluster.ConfigPath, "events", "tail", "--consumer", Consumer, "--no-follow", "--json");
        Assert.True(tail.ExitCode == 0, tail.All);
        var lines = tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(late.Id, JsonDocument.Parse(Assert.Single(lines)).RootElement.GetProperty("id").GetString());
        var again = await CliProcess.RunAsync(cluster.ConfigPath, "events", "tail", "--consumer", Consumer, "--no-follow", "--json");
        Assert.True(again.ExitCode == 0 && again.Output.Trim().Length == 0, again.All);
        var shown = await CliProcess.RunAsync(cluster.ConfigPath, "events", "consumer", Consumer, "--json");
        Assert.True(shown.ExitCode == 0, shown.All);
        Assert.Equal(late.Sequence, JsonDocument.Parse(shown.Output).RootElement.GetProperty("sequence").GetInt64());
        var cliPublished = await CliProcess.RunAsync(cluster.ConfigPath, "events", "publish", "stock", """{"sku":"apple","quantity":1}""", "--key", "cli", "--json");
        Assert.True(cliPublished.ExitCode == 0, cliPublished.All);
        Assert.Equal(late.Sequence + 1, JsonDocument.Parse(cliPublished.Output).RootElement.GetProperty("sequence").GetInt64());
        var notJson = await CliProcess.RunAsync(cluster.ConfigPath, "events", "publish", "stock", "{not json");
        Assert.True(notJson.ExitCode == 2, notJson.All);
    }

    /// <summary>Places <paramref name="count"/> orders of 2 apples, each with its deduct-stock message, under one idempotency key each.</summary>
    private static async Task<List<PublishedMessage>> PlaceAsync(RaftMallClient client, int from, int count, Action<int>? afterEach = null)
    {
        var messages = new List<PublishedMessage>();
        for (var i = from; i < from + count; i++)
        {
            var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["sku"] = "apple", ["quantity"] = 2 });
            var placed = await client.PlaceOrderWithMessageAsync($"user-{i}", [new OrderLine("apple", 2)], new MessageRequest("stock", $"order-of-user-{i}", payload),
                idempotencyKey: $"checkout-{i}");
            messages.Add(placed.Message);
            afterEach?.Invoke(messages.Count);
        }
        return messages;
    }

    /// <summary>Consumes pages until the committed position reaches <paramref name="last"/>; returns the duplicates it absorbed.</summary>
    private static async Task<int> DrainAsync(RaftMallClient client, MessageDeduplicator<StockLedger.Transaction> dedup, long last, CancellationToken token)
    {
        var duplicates = 0;
        var position = 0L;
        while (position < last)
        {
            var page = await client.ConsumePageAsync(Consumer, "stock", dedup, StockLedger.Apply, limit: 7, waitSeconds: 1, token: token);
            duplicates += page.Duplicates;
            if (page.Position >= 0) position = page.Position;
        }
        return duplicates;
    }


    /// <summary>A consumer process's client: its own connection and a writer's key (acknowledging is a writer's right).</summary>
    private static ConsumerProcess ConsumerOf(TestCluster cluster)
    {
        var options = cluster.ClientOptions(TimeSpan.FromSeconds(20));
        options.ApiKey = TestCluster.TestKeys.Writer;
        return new ConsumerProcess(new RaftMallClient(options));
    }

    private sealed class ConsumerProcess(RaftMallClient client) : IAsyncDisposable
    {
        public RaftMallClient Client => client;

        public ValueTask DisposeAsync()
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
