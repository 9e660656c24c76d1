namespace RaftMall.Client.Consumers;

/// <summary>
/// One local transaction of the consumer's own store: the deduplicator reads and records message ids through it, and
/// the handler writes its effect through the same transaction, so both commit together or not at all (the dedup
/// table of the local-message-table pattern). Disposing without <see cref="CommitAsync"/> must discard every change.
/// </summary>
public interface IDedupTransaction : IAsyncDisposable
{
    /// <summary>Whether the message with <paramref name="messageId"/> was applied (its id committed) before.</summary>
    /// <param name="messageId">The message's event id (<c>evt-</c> and its sequence): unique for the life of the cluster.</param>
    /// <param name="token">Cancels the call.</param>
    ValueTask<bool> IsProcessedAsync(string messageId, CancellationToken token);

    /// <summary>Records <paramref name="messageId"/> as applied in this transaction.</summary>
    /// <param name="messageId">The message's event id.</param>
    void MarkProcessed(string messageId);

    /// <summary>Makes the recorded id and every effect of this transaction durable at once.</summary>
    /// <param name="token">Cancels the call.</param>
    ValueTask CommitAsync(CancellationToken token);
}

/// <summary>
/// The consumer's store as the deduplicator needs it. Two transactions on the same message id must not both commit:
/// within one process <see cref="MessageDeduplicator{TTransaction}"/> serializes them; a store shared by several
/// processes needs a unique key on the id, so that the second insert fails.
/// </summary>
/// <typeparam name="TTransaction">The store's local transaction.</typeparam>
public interface IDedupStore<TTransaction> where TTransaction : IDedupTransaction
{
    /// <summary>Begins a local transaction of the store; the deduplicator disposes it, after <see cref="IDedupTransaction.CommitAsync"/> or without.</summary>
    /// <param name="token">Cancels the call.</param>
    ValueTask<TTransaction> BeginAsync(CancellationToken token);
}

/// <summary>What the deduplicator did with a delivered message.</summary>
public enum DeliveryVerdict
{
    /// <summary>The handler ran, and its effect was committed with the message's id.</summary>
    Applied,

    /// <summary>The id was committed before: nothing applied again; acknowledge it.</summary>
    Duplicate,
}
