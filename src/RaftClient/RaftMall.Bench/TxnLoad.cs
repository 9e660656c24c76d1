using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using HdrHistogram;

namespace RaftMall.Bench;

/// <summary>The figures of one closed-loop transaction run.</summary>
public sealed record TxnRunResult(string Mode, int Clients, double Seconds, long Transactions, double TransactionsPerSecond,
    double LatencyMsP50, double LatencyMsP90, double LatencyMsP99, double LatencyMsMax, IReadOnlyDictionary<string, long> Errors,
    double GeneratorCores, double NodeCores, double ParticipantCores, double? LogEntriesPerTransaction, string GidPrefix)
{
    public long ErrorCount => Errors.Values.Sum();
}

/// <summary>
/// N clients, each running one transaction at a time for a fixed time (closed loop): a warm-up, then the measured part,
/// latency per transaction into an HDR histogram, failures counted by message.
/// </summary>
public static class TxnLoad
{
    /// <summary>Highest latency the histograms hold, in microseconds.</summary>
    private const long HighestLatencyUs = 120_000_000;

    /// <summary>
    /// Runs <paramref name="transaction"/>(gid, client) from <paramref name="clients"/> clients; an exception is a failed
    /// transaction. CPU is measured per process group; <paramref name="commitIndex"/> (the leader's) gives log entries per transaction.
    /// </summary>
    public static async Task<TxnRunResult> RunAsync(string mode, int clients, TimeSpan warmup, TimeSpan duration, IReadOnlyList<int> nodePids, IReadOnlyList<int> participantPids,
        Func<Task<long?>> commitIndex, Func<string, int, CancellationToken, Task> transaction, Action<string>? progress, CancellationToken token)
    {
        var histograms = Enumerable.Range(0, clients).Select(_ => new LongHistogram(HighestLatencyUs, 3)).ToArray();
        var errors = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var run = Guid.NewGuid().ToString("N")[..6];
        long completed = 0;
        var measuring = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var workers = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            for (var n = 0L; !stop.IsCancellationRequested; n++)
            {
                var started = Stopwatch.GetTimestamp();
                string? error = null;
                try
                {
                    // Not the stop token: a transaction under way completes (or its phase 2 would be left to the check).
                    await transaction($"{mode}-{run}-{client}-{n}", client, token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    error = e.Message.Length > 120 ? e.Message[..120] : e.Message;
                }
                if (Volatile.Read(ref measuring) == 0) continue;
                if (error is null)
                {
                    histograms[client].RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                    Interlocked.Increment(ref completed);
                }
                else
                {
                    errors.AddOrUpdate(error, 1, (_, count) => count + 1);
                    await Task.Delay(10, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }, CancellationToken.None)).ToArray();

        await Task.Delay(warmup, token);
        Volatile.Write(ref measuring, 1);
        var nodeCpu = CpuSample.Take(nodePids);
        var participantCpu = CpuSample.Take(participantPids);
        var indexBefore = await commitIndex();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var remaining = duration - clock.Elapsed;
            await Task.Delay(remaining < TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1), token);
            progress?.Invoke($"{mode} ×{clients}: {clock.Elapsed.TotalSeconds:0}/{duration.TotalSeconds:0} s, {Interlocked.Read(ref completed) / clock.Elapsed.TotalSeconds:N0} txn/s, {errors.Values.Sum()} errors");
        }
        Volatile.Write(ref measuring, 0);
        var elapsed = clock.Elapsed;
        var (generatorCores, nodeCores) = nodeCpu.Since();
        var participantCores = participantCpu.Since().ServerCores;
        var indexAfter = await commitIndex();
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var merged = new LongHistogram(HighestLatencyUs, 3);
        foreach (var histogram in histograms) merged.Add(histogram);
        static double Ms(double us) => Math.Round(us / 1000.0, 2);
        var count = Interlocked.Read(ref completed);
        return new TxnRunResult(mode, clients, Math.Round(elapsed.TotalSeconds, 2), count, Math.Round(count / elapsed.TotalSeconds, 1),
            count == 0 ? 0 : Ms(merged.GetValueAtPercentile(50)), count == 0 ? 0 : Ms(merged.GetValueAtPercentile(90)),
            count == 0 ? 0 : Ms(merged.GetValueAtPercentile(99)), count == 0 ? 0 : Ms(merged.GetMaxValue()),
            new SortedDictionary<string, long>(errors, StringComparer.Ordinal), Math.Round(generatorCores, 2), Math.Round(nodeCores ?? 0, 2), Math.Round(participantCores ?? 0, 2),
            indexBefore is { } before && indexAfter is { } after && count > 0 ? Math.Round((after - before) / (double)count, 2) : null, $"{mode}-{run}-");
    }

    /// <summary>
    /// The same work without a coordinator: try on every participant in parallel, then confirm on every one in parallel,
    /// with the headers the coordinator would send (so each participant does the same barrier work).
    /// </summary>
    public static async Task DirectTccAsync(HttpClient http, IReadOnlyList<(Uri Try, Uri Confirm, System.Text.Json.JsonElement Payload)> branches, string gid, CancellationToken token)
    {
        await Task.WhenAll(branches.Select((b, i) => CallAsync(http, b.Try, "try", gid, $"b{i}", b.Payload, token)));
        await Task.WhenAll(branches.Select((b, i) => CallAsync(http, b.Confirm, "confirm", gid, $"b{i}", b.Payload, token)));
    }

    private static async Task CallAsync(HttpClient http, Uri url, string operation, string gid, string branch, System.Text.Json.JsonElement payload, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(payload, ContractJsonContext.Default.JsonElement) };
        ParticipantHeaders.Add(request.Headers, gid, branch, operation, attempt: 1, "tcc");
        using var response = await http.SendAsync(request, token);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{operation} {url.Authority}: {(int)response.StatusCode}");
    }
}
