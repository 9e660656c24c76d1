namespace RaftMall.Client.Consumers;

/// <summary>What one <see cref="PullConsumer.ConsumePageAsync"/> did.</summary>
/// <param name="Applied">Messages whose effect was committed now.</param>
/// <param name="Duplicates">Messages already applied before (redelivered after a crash before the ack): acknowledged, not applied again.</param>
/// <param name="Skipped">Events of other topics or types: acknowledged without a store transaction.</param>
/// <param name="Position">The committed position after the page; -1 when the page was empty and nothing was acknowledged.</param>
public sealed record ConsumedPage(int Applied, int Duplicates, int Skipped, long Position);

/// <summary>
/// A pull consumer with a committed position: reads the events after it, applies each message through a
/// <see cref="MessageDeduplicator{TTransaction}"/>, and acknowledges the page. A crash between applying and the ack
/// redelivers the page, and the deduplicator absorbs it.
/// </summary>
public static class PullConsumer
{
    /// <summary>
    /// Reads one page after <paramref name="consumer"/>'s committed position (waiting up to
    /// <paramref name="waitSeconds"/> for one), applies its messages of <paramref name="topic"/> in order, and acknowledges
    /// its last sequence. A position behind the outbox's retention throws <see cref="RaftMallException"/> (410 <c>events_trimmed</c>).
    /// </summary>
    /// <typeparam name="TTransaction">The consumer store's local transaction.</typeparam>
    /// <param name="client">The client to read and acknowledge with (a writer's key).</param>
    /// <param name="consumer">The consumer's name.</param>
    /// <param name="topic">Only messages of this topic are applied; null applies every message. Other events are skipped.</param>
    /// <param name="deduplicator">The deduplicator over the consumer's store.</param>
    /// <param name="apply">The effect of one message, written through the transaction it is given.</param>
    /// <param name="limit">Most events on the page, 1..1,000.</param>
    /// <param name="waitSeconds">Seconds to wait for a new event, 0..30.</param>
    /// <param name="token">Cancels the call.</param>
    public static async Task<ConsumedPage> ConsumePageAsync<TTransaction>(this RaftMallClient client, string consumer, string? topic,
        MessageDeduplicator<TTransaction> deduplicator, Func<TTransaction, MallEvent, CancellationToken, ValueTask> apply,
        int limit = 100, int waitSeconds = 10, CancellationToken token = default) where TTransaction : IDedupTransaction
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(deduplicator);
        var page = await client.ReadConsumerEventsAsync(consumer, limit, waitSeconds, token: token).ConfigureAwait(false);
        int applied = 0, duplicates = 0, skipped = 0;
        foreach (var e in page.Events)
        {
            if (e.Type != "message" || (topic is not null && e.Topic != topic))
            {
                skipped++;
                continue;
            }
            if (await deduplicator.HandleAsync(e, apply, token).ConfigureAwait(false) == DeliveryVerdict.Applied) applied++;
            else duplicates++;
        }
        if (page.Events.Length == 0) return new ConsumedPage(0, 0, 0, -1);
        var position = await client.AckConsumerAsync(consumer, page.Events[^1].Sequence, token: token).ConfigureAwait(false);
        return new ConsumedPage(applied, duplicates, skipped, position.Sequence);
    }
}
