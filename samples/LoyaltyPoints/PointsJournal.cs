using System.Text.Json;
using System.Threading.Channels;
using RaftMall.Client.Participants;

namespace RaftMall.Samples.LoyaltyPoints;

/// <summary>One account's points: available to spend, frozen by tries not yet confirmed or cancelled, and spent.</summary>
public sealed record Account(string Name, long Available, long Frozen, long Spent);

/// <summary>How often each effect took place for one gid (committed, so they survive restarts), for exactly-once checks.</summary>
public sealed record EffectCounts(int Tries, int Confirms, int Cancels, int EmptyRollbacks);

/// <summary>
/// The service's durable store: an append-only journal of committed local transactions, one JSON line each (the barrier
/// record and the account balances it changed together), replayed at start. A commit returns once its line is on disk
/// (fsync); concurrent commits share one fsync (group commit). Memory changes in journal order under one lock, so a
/// crash loses at most a suffix of lines none of whose commits had returned.
/// </summary>
public sealed class PointsJournal : IBarrierStore<PointsTransaction>, IAsyncDisposable
{
    /// <summary>Lines written before one fsync at most; bounds the latency a large burst adds to its first commit.</summary>
    private const int MaxLinesPerFlush = 512;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SemaphoreSlim _memory = new(1, 1);
    private readonly Dictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Gid, string Branch), BarrierRecord> _barriers = [];
    private readonly Dictionary<string, EffectCounts> _effects = new(StringComparer.Ordinal);
    private readonly Channel<(byte[] Line, TaskCompletionSource Durable)> _pending = Channel.CreateUnbounded<(byte[], TaskCompletionSource)>(new() { SingleReader = true });
    private readonly FileStream _file;
    private readonly Task _writer;

    public PointsJournal(string directory)
    {
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, "journal.log");
        Replay();
        _file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024);
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Path { get; }

    public int LinesReplayed { get; private set; }

    /// <summary>A local transaction: holds the memory lock until it commits or is disposed (no I/O happens under it).</summary>
    public async ValueTask<PointsTransaction> BeginAsync(CancellationToken token)
    {
        await _memory.WaitAsync(token).ConfigureAwait(false);
        return new PointsTransaction(this);
    }

    internal BarrierRecord? FindBarrier(string gid, string branch) => _barriers.GetValueOrDefault((gid, branch));

    internal Account? FindAccount(string name) => _accounts.GetValueOrDefault(name);

    internal void Unlock() => _memory.Release();

    /// <summary>Applies a transaction's changes in memory and queues its line; the caller awaits the returned task for durability.</summary>
    internal Task Apply(JournalLine line)
    {
        ApplyInMemory(line);
        var durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(line, Json);
        if (!_pending.Writer.TryWrite((bytes, durable))) durable.SetException(new ObjectDisposedException(nameof(PointsJournal)));
        return durable.Task;
    }

    public async Task<Account?> GetAccountAsync(string name)
    {
        await _memory.WaitAsync().ConfigureAwait(false);
        try { return _accounts.GetValueOrDefault(name); }
        finally { _memory.Release(); }
    }

    public async Task<Dictionary<string, EffectCounts>> GetEffectsAsync()
    {
        await _memory.WaitAsync().ConfigureAwait(false);
        try { return new Dictionary<string, EffectCounts>(_effects, StringComparer.Ordinal); }
        finally { _memory.Release(); }
    }

    private void ApplyInMemory(JournalLine line)
    {
        if (line.Accounts.FirstOrDefault(a => a.Available < 0 || a.Frozen < 0 || a.Spent < 0) is { } negative)
        {
            throw new InvalidOperationException($"invariant: account {negative.Name} would go negative ({negative}); nothing applied");
        }
        foreach (var account in line.Accounts) _accounts[account.Name] = account;
        if (line.Barrier is not { } barrier) return;
        var previous = _barriers.GetValueOrDefault((barrier.Gid, barrier.BranchId));
        _barriers[(barrier.Gid, barrier.BranchId)] = barrier;
        var counts = _effects.GetValueOrDefault(barrier.Gid) ?? new EffectCounts(0, 0, 0, 0);
        _effects[barrier.Gid] = barrier switch
        {
            { EmptyRollback: true } => counts with { EmptyRollbacks = counts.EmptyRollbacks + 1 },
            { State: BarrierState.Tried } => counts with { Tries = counts.Tries + 1 },
            { State: BarrierState.Confirmed } => counts with { Confirms = counts.Confirms + 1 },
            _ when previous is not null => counts with { Cancels = counts.Cancels + 1 },
            _ => counts,
        };
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<(byte[] Line, TaskCompletionSource Durable)>();
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxLinesPerFlush && _pending.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                foreach (var (line, _) in batch)
                {
                    _file.Write(line);
                    _file.WriteByte((byte)'\n');
                }
                _file.Flush(flushToDisk: true);
                foreach (var (_, durable) in batch) durable.SetResult();
            }
            catch (IOException e)
            {
                // The disk failed: memory is ahead of the journal, so nothing more may be acknowledged.
                foreach (var (_, durable) in batch) durable.SetException(e);
                _pending.Writer.TryComplete(e);
                Environment.FailFast("loyalty points journal write failed", e);
            }
            batch.Clear();
        }
    }

    private void Replay()
    {
        if (!File.Exists(Path)) return;
        var bytes = File.ReadAllBytes(Path);
        var start = 0;
        while (start < bytes.Length)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', start);
            var end = newline < 0 ? bytes.Length : newline;
            JournalLine? line;
            try
            {
                line = JsonSerializer.Deserialize<JournalLine>(bytes.AsSpan(start, end - start), Json);
            }
            catch (JsonException) when (newline < 0)
            {
                // A torn last line: its commit never returned, so dropping it loses nothing acknowledged. Cut it off so
                // that the next line appended does not land behind it.
                using var truncate = new FileStream(Path, FileMode.Open, FileAccess.Write);
                truncate.SetLength(start);
                return;
            }
            ApplyInMemory(line ?? throw new InvalidDataException($"{Path}: an empty JSON line at byte {start}"));
            LinesReplayed++;
            if (newline < 0) File.AppendAllText(Path, "\n"); // complete but unterminated: terminate it
            start = end + 1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
        _memory.Dispose();
    }
}

/// <summary>One committed local transaction as written to the journal: the barrier record (if any) and the accounts it changed.</summary>
public sealed record JournalLine(BarrierRecord? Barrier, Account[] Accounts);
