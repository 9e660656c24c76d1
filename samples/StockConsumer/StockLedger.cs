using System.Text.Json;
using RaftMall.Client.Consumers;

namespace RaftMall.Samples.StockConsumer;

/// <summary>One committed local transaction of the ledger: a message applied (its effect with its id), or a duplicate absorbed.</summary>
/// <param name="Subscription">The subscription that delivered it: each keeps its own dedup table, order and effects.</param>
/// <param name="Id">The message's event id, the dedup table's key.</param>
/// <param name="Sequence">Its outbox sequence: the ledger keeps the order in which messages were applied.</param>
/// <param name="Sku">What the message deducts (null for a duplicate line).</param>
public sealed record LedgerLine(string Subscription, string Id, long Sequence, string? Sku, long Quantity, bool Duplicate);

/// <summary>What one subscription applied: the sequences in the order they were applied, the duplicates absorbed, the units deducted per sku.</summary>
public sealed record SubscriptionLedger(List<long> Applied, long Duplicates, Dictionary<string, long> Deducted);

/// <summary>
/// The service's durable store: an append-only file of <see cref="LedgerLine"/>s (JSON lines), replayed at start, with
/// the dedup table (processed ids per subscription) and the effects (units deducted) rebuilt from it. A commit writes
/// its line; <see cref="Flush"/> makes every written line durable (fsync), and a delivery is answered only after it, so
/// a batch is acknowledged only once all of its effects survive kill -9. A crash loses at most a suffix of unanswered lines.
/// </summary>
public sealed class StockLedger : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<string>> _processed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubscriptionLedger> _ledgers = new(StringComparer.Ordinal);
    private readonly FileStream _file;

    public StockLedger(string directory)
    {
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, "ledger.jsonl");
        Replay();
        _file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
    }

    public string Path { get; }

    public int LinesReplayed { get; private set; }

    /// <summary>The dedup helper's view of one subscription's part of the ledger.</summary>
    public IDedupStore<LedgerTransaction> For(string subscription) => new SubscriptionStore(this, subscription);

    /// <summary>Records a duplicate absorbed (counted durably with the next flush).</summary>
    public void RecordDuplicate(string subscription, MallEvent message) => Write(new LedgerLine(subscription, message.Id, message.Sequence, null, 0, Duplicate: true));

    /// <summary>Makes every line written so far durable.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            try
            {
                _file.Flush(flushToDisk: true);
            }
            catch (IOException e)
            {
                // Memory is ahead of the disk: nothing more may be acknowledged.
                Environment.FailFast("stock ledger flush failed", e);
            }
        }
    }

    /// <summary>A copy of every subscription's ledger.</summary>
    public Dictionary<string, SubscriptionLedger> Snapshot()
    {
        lock (_gate)
        {
            return _ledgers.ToDictionary(l => l.Key, l => new SubscriptionLedger([.. l.Value.Applied], l.Value.Duplicates, new Dictionary<string, long>(l.Value.Deducted)),
                StringComparer.Ordinal);
        }
    }

    internal bool IsProcessed(string subscription, string id)
    {
        lock (_gate) return _processed.TryGetValue(subscription, out var ids) && ids.Contains(id);
    }

    internal void Write(LedgerLine line)
    {
        lock (_gate)
        {
            Apply(line);
            _file.Write(JsonSerializer.SerializeToUtf8Bytes(line, Json));
            _file.WriteByte((byte)'\n');
        }
    }

    private void Apply(LedgerLine line)
    {
        if (!_ledgers.TryGetValue(line.Subscription, out var ledger))
        {
            _ledgers[line.Subscription] = ledger = new SubscriptionLedger([], 0, new Dictionary<string, long>(StringComparer.Ordinal));
            _processed[line.Subscription] = new HashSet<string>(StringComparer.Ordinal);
        }
        if (line.Duplicate)
        {
            _ledgers[line.Subscription] = ledger with { Duplicates = ledger.Duplicates + 1 };
            return;
        }
        // The dedup table is the unique key: a second commit of one id is a bug to surface, not to count.
        if (!_processed[line.Subscription].Add(line.Id)) throw new InvalidOperationException($"invariant: {line.Id} applied twice for {line.Subscription}");
        ledger.Applied.Add(line.Sequence);
        if (line.Sku is { } sku) ledger.Deducted[sku] = ledger.Deducted.GetValueOrDefault(sku) + line.Quantity;
    }

    private void Replay()
    {
        if (!File.Exists(Path)) return;
        var bytes = File.ReadAllBytes(Path);
        var lastNewline = Array.LastIndexOf(bytes, (byte)'\n');
        if (lastNewline < bytes.Length - 1)
        {
            // A torn last line (kill -9 in the middle of a write): its delivery was never answered, so cutting it off loses nothing acknowledged.
            using var truncate = new FileStream(Path, FileMode.Open, FileAccess.Write);
            truncate.SetLength(lastNewline + 1);
        }
        foreach (var text in System.Text.Encoding.UTF8.GetString(bytes, 0, lastNewline + 1).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Apply(JsonSerializer.Deserialize<LedgerLine>(text, Json) ?? throw new InvalidDataException($"{Path}: an empty JSON line"));
            LinesReplayed++;
        }
    }

    public void Dispose() => _file.Dispose();

    private sealed class SubscriptionStore(StockLedger ledger, string subscription) : IDedupStore<LedgerTransaction>
    {
        public ValueTask<LedgerTransaction> BeginAsync(CancellationToken token) => ValueTask.FromResult(new LedgerTransaction(ledger, subscription));
    }
}

/// <summary>
/// One local transaction of the ledger for one subscription: stages a deduction and the message's id, and writes them
/// as one line on commit. Disposed without commit, it leaves no trace.
/// </summary>
public sealed class LedgerTransaction(StockLedger ledger, string subscription) : IDedupTransaction
{
    private (string Sku, long Quantity)? _deduction;
    private string? _id;
    private long _sequence;

    public ValueTask<bool> IsProcessedAsync(string messageId, CancellationToken token) => ValueTask.FromResult(ledger.IsProcessed(subscription, messageId));

    public void MarkProcessed(string messageId) => _id = messageId;

    /// <summary>The effect of a "deduct stock" message.</summary>
    public void Deduct(long sequence, string sku, long quantity) => (_sequence, _deduction) = (sequence, (sku, quantity));

    public ValueTask CommitAsync(CancellationToken token)
    {
        if (_id is null || _deduction is not { } deduction) throw new InvalidOperationException("a ledger transaction commits one applied message");
        ledger.Write(new LedgerLine(subscription, _id, _sequence, deduction.Sku, deduction.Quantity, Duplicate: false));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the staged deduction is simply dropped
}
