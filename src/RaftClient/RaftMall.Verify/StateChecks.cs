using RaftMall.Client;

namespace RaftMall.Verify;

/// <summary>
/// Compares replicas while they run: every node hashes its whole state at the log's check points (the leader proposes
/// one every <c>stateCheckIntervalMs</c>), and at an index two nodes both checked, the hashes must be equal. The final
/// hash comparison sees only the replicas that exist at the end; a node whose data the membership nemesis set aside, or
/// one that diverged and was later rebuilt from a snapshot, is caught here, and the first differing index says from
/// where.
/// </summary>
public sealed class StateCheckCollector(IReadOnlyDictionary<string, Uri> nodes, string apiKey) : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly RaftMallClient _client = new(new RaftMallClientOptions
    {
        Endpoints = [.. nodes.Values],
        ApiKey = apiKey,
        RetryBudget = TimeSpan.Zero,
        AttemptTimeout = TimeSpan.FromMilliseconds(500),
    });

    private readonly StateCheckLedger _ledger = new();

    public StateCheckLedger Ledger => _ledger;

    /// <summary>Polls every node every <see cref="Interval"/> until <paramref name="stop"/>; a node that does not answer is asked again next time.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop)) await CollectAsync(stop);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // the run is over (a request cut short by the stop may surface as any client error)
        }
    }

    /// <summary>Asks every node once.</summary>
    public Task CollectAsync(CancellationToken token) => Task.WhenAll(nodes.Select(async node =>
    {
        try
        {
            var checks = await _client.GetStateChecksAsync(node.Value, token);
            foreach (var check in checks.Checks) _ledger.Add(node.Key, check.AppliedIndex, check.Hash);
        }
        catch (Exception) when (!token.IsCancellationRequested)
        {
            // down, frozen or cut off: its checks are still there next time (it keeps the newest 64)
        }
    }));

    public void Dispose() => _client.Dispose();
}

/// <summary>The state checks seen, by log index: which node reported which hash.</summary>
public sealed class StateCheckLedger
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, Dictionary<string, HashSet<string>>> _byIndex = [];

    public void Add(string node, long index, string hash)
    {
        lock (_lock)
        {
            if (!_byIndex.TryGetValue(index, out var byNode)) _byIndex[index] = byNode = new(StringComparer.Ordinal);
            if (!byNode.TryGetValue(node, out var hashes)) byNode[node] = hashes = new(StringComparer.Ordinal);
            hashes.Add(hash); // a node that reports two hashes at one index (two incarnations) counts as two reports
        }
    }

    /// <summary>Indexes at which at least two reports were compared.</summary>
    public int Compared
    {
        get
        {
            lock (_lock) return _byIndex.Values.Count(byNode => byNode.Values.Sum(h => h.Count) >= 2);
        }
    }

    /// <summary>One line per index at which the reported hashes differ, first index first (the first is where replicas began to differ).</summary>
    public List<string> Divergences()
    {
        lock (_lock)
        {
            return [.. _byIndex
                .Where(e => e.Value.Values.SelectMany(h => h).Distinct(StringComparer.Ordinal).Count() > 1)
                .Select(e => $"replicas differ at the state check of log index {e.Key}: " +
                    string.Join(", ", e.Value.OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => $"{n.Key}={string.Join("/", n.Value.Order(StringComparer.Ordinal))}")))];
        }
    }
}
