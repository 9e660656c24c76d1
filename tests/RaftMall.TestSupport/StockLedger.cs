using RaftMall.Client.Consumers;

namespace RaftMall.TestSupport;

/// <summary>
/// A stock service's store for consumer tests: units deducted per sku and the ids of processed messages, changed only
/// by committed local transactions (staged changes are dropped on dispose without commit), with a log of every applied
/// message in commit order, so a test can count effects: each message applied exactly once, in order.
/// </summary>
public sealed class StockLedger : IDedupStore<StockLedger.Transaction>
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _processed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _deducted = new(StringComparer.Ordinal);
    private readonly List<string> _applied = [];

    /// <summary>When set, the next commit throws before anything is written: a crash between the effect and its commit.</summary>
    public bool FailNextCommit { get; set; }

    public long Deducted(string sku)
    {
        lock (_gate) return _deducted.GetValueOrDefault(sku);
    }

    /// <summary>The ids of applied messages, in the order their transactions committed.</summary>
    public List<string> Applied()
    {
        lock (_gate) return [.. _applied];
    }

    public ValueTask<Transaction> BeginAsync(CancellationToken token) => ValueTask.FromResult(new Transaction(this));

    /// <summary>The stock service's handler of a <c>{"sku","quantity"}</c> message: deducts the quantity through the transaction.</summary>
    public static ValueTask Apply(Transaction transaction, RaftMall.Contract.MallEvent message, CancellationToken token)
    {
        var payload = message.Payload!.Value;
        transaction.Deduct(payload.GetProperty("sku").GetString()!, payload.GetProperty("quantity").GetInt64());
        return ValueTask.CompletedTask;
    }

    public sealed class Transaction(StockLedger ledger) : IDedupTransaction
    {
        private readonly Dictionary<string, long> _deducted = new(StringComparer.Ordinal);
        private string? _processed;

        public ValueTask<bool> IsProcessedAsync(string messageId, CancellationToken token)
        {
            lock (ledger._gate) return ValueTask.FromResult(ledger._processed.Contains(messageId));
        }

        public void MarkProcessed(string messageId) => _processed = messageId;

        public void Deduct(string sku, long quantity) => _deducted[sku] = _deducted.GetValueOrDefault(sku) + quantity;

        public ValueTask CommitAsync(CancellationToken token)
        {
            lock (ledger._gate)
            {
                if (ledger.FailNextCommit)
                {
                    ledger.FailNextCommit = false;
                    throw new IOException("the store crashed before the commit");
                }
                if (_processed is { } id && !ledger._processed.Add(id)) throw new InvalidOperationException($"message {id} committed twice (unique key)");
                foreach (var (sku, quantity) in _deducted) ledger._deducted[sku] = ledger._deducted.GetValueOrDefault(sku) + quantity;
                if (_processed is { } applied) ledger._applied.Add(applied);
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask; // uncommitted changes are simply dropped
    }
}
