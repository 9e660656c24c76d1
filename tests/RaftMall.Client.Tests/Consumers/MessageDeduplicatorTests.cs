using System.Text.Json;
using RaftMall.Client.Consumers;
using RaftMall.TestSupport;

namespace RaftMall.Client.Tests.Consumers;

/// <summary>The consumer's dedup table: each delivered message changes the stock service's store once, however often it arrives.</summary>
public class MessageDeduplicatorTests
{
    private readonly StockLedger _ledger = new();
    private readonly MessageDeduplicator<StockLedger.Transaction> _dedup;

    public MessageDeduplicatorTests() => _dedup = new MessageDeduplicator<StockLedger.Transaction>(_ledger);

    [Fact]
    public async Task A_message_applies_once_and_a_redelivery_is_a_duplicate_that_changes_nothing()
    {
        var message = Deduct(7, "apple", 2);
        Assert.Equal(DeliveryVerdict.Applied, await _dedup.HandleAsync(message, StockLedger.Apply, default));
        Assert.Equal(DeliveryVerdict.Duplicate, await _dedup.HandleAsync(message, StockLedger.Apply, default));
        Assert.Equal(DeliveryVerdict.Duplicate, await _dedup.HandleAsync(message with { At = DateTimeOffset.UnixEpoch }, StockLedger.Apply, default));
        Assert.Equal(2, _ledger.Deducted("apple"));
        Assert.Equal(["evt-7"], _ledger.Applied());
    }

    [Fact]
    public async Task A_handler_that_fails_commits_neither_its_effect_nor_the_id_so_the_redelivery_applies_it()
    {
        var message = Deduct(8, "pear", 3);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _dedup.HandleAsync(message, (t, m, ct) =>
        {
            t.Deduct("pear", 3);
            throw new InvalidOperationException("the handler failed half way");
        }, default));
        _ledger.FailNextCommit = true;
        await Assert.ThrowsAsync<IOException>(() => _dedup.HandleAsync(message, StockLedger.Apply, default));
        Assert.Equal(0, _ledger.Deducted("pear"));

        Assert.Equal(DeliveryVerdict.Applied, await _dedup.HandleAsync(message, StockLedger.Apply, default));
        Assert.Equal(3, _ledger.Deducted("pear"));
    }

    [Fact]
    public async Task Concurrent_deliveries_of_the_same_message_apply_it_once()
    {
        var message = Deduct(9, "plum", 1);
        var verdicts = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => _dedup.HandleAsync(message, async (t, m, ct) =>
        {
            await Task.Delay(5, ct); // widen the window between the check and the commit
            await StockLedger.Apply(t, m, ct);
        }, default))));
        Assert.Equal(1, verdicts.Count(v => v == DeliveryVerdict.Applied));
        Assert.Equal(1, _ledger.Deducted("plum"));
    }


    private static MallEvent Deduct(long sequence, string sku, int quantity) =>
        new($"evt-{sequence}", sequence, "message", DateTimeOffset.UtcNow, null, null, null, null, null)
        {
            Topic = "stock",
            Payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["sku"] = sku, ["quantity"] = quantity }),
        };
}
