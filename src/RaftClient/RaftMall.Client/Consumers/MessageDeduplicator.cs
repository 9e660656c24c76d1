namespace RaftMall.Client.Consumers;

/// <summary>
/// Applies each delivered message at most once in the consumer's own store: the handler's effect and the message's
/// id commit in one local transaction, and a message whose id is already there is reported
/// <see cref="DeliveryVerdict.Duplicate"/> without running the handler. RaftMall delivers at least once (a consumer
/// that crashes before its ack reads the same events again), so this is what makes the effect exactly once.
/// Thread-safe; one per store.
/// </summary>
/// <typeparam name="TTransaction">The store's local transaction.</typeparam>
/// <param name="store">The consumer's store, holding the processed ids beside the business data.</param>
public sealed class MessageDeduplicator<TTransaction>(IDedupStore<TTransaction> store) where TTransaction : IDedupTransaction
{
    /// <summary>Deliveries of the same id run one at a time; other ids share a stripe only by hash collision.</summary>
    private const int LockStripeCount = 256;

    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, LockStripeCount).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>
    /// Runs <paramref name="apply"/> — the message's effect, written through the transaction it is given — unless the
    /// message's id was committed before, and commits the effect with the id. An exception from the handler commits nothing.
    /// </summary>
    /// <param name="message">The delivered event (its <see cref="MallEvent.Id"/> is what is recorded).</param>
    /// <param name="apply">The handler: writes the effect through the transaction; it must not commit it.</param>
    /// <param name="token">Cancels the wait for the id's lock and the store calls.</param>
    /// <returns><see cref="DeliveryVerdict.Applied"/> or <see cref="DeliveryVerdict.Duplicate"/>; either way the message may be acknowledged.</returns>
    public async Task<DeliveryVerdict> HandleAsync(MallEvent message, Func<TTransaction, MallEvent, CancellationToken, ValueTask> apply, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(apply);
        var stripe = _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(message.Id) % LockStripeCount)];
        await stripe.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var transaction = await store.BeginAsync(token).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                if (await transaction.IsProcessedAsync(message.Id, token).ConfigureAwait(false)) return DeliveryVerdict.Duplicate;
                await apply(transaction, message, token).ConfigureAwait(false);
                transaction.MarkProcessed(message.Id);
                await transaction.CommitAsync(token).ConfigureAwait(false);
                return DeliveryVerdict.Applied;
            }
        }
        finally
        {
            stripe.Release();
        }
    }
}
