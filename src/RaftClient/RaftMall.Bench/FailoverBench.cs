using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace RaftMall.Bench;

/// <summary>
/// Failover timing: steady paced kv-put load from clients spread over every member, kill -9 of the leader, time from
/// the kill to the first acknowledged write that was sent after the killed process was gone; then the killed member is restarted and the next
/// trial waits for a healthy cluster. At the end every acknowledged key is read back (linearizable) to prove none was lost.
/// </summary>
public sealed class FailoverBench(BenchCluster cluster, int clients, double writesPerSecond, int valueSize, TimeSpan requestTimeout)
{
    /// <summary>Keys of this benchmark start here, far from the `bench-0..keys` space of the load runs.</summary>
    private const long FirstKey = 1_000_000_000_000;

    /// <summary>One kill; <see cref="KilledAtUtc"/> is the wall-clock time of the kill, to match the members' logs.</summary>
    public sealed record Trial(int Number, string KilledMember, DateTime KilledAtUtc, double FailoverMs, long TermBefore, long TermAfter, string NewLeader);

    public sealed record Report(string Cluster, int Clients, double WritesPerSecond, IReadOnlyList<Trial> Trials, double P50Ms, double P99Ms, double MaxMs,
        long AcknowledgedWrites, long LostWrites, IReadOnlyDictionary<string, long> Errors);

    private readonly ConcurrentQueue<long> _acknowledged = new();
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _nextKey = FirstKey;
    // Writes count toward the failover only when sent after the killed process is gone: the old leader keeps running
    // for a few milliseconds after SIGKILL is sent and can still commit a write (one trial measured 22 ms that way).
    private long _deadAt;
    private long _firstSuccessAfterKill;

    public async Task<Report> RunAsync(int trials, Action<Trial> onTrial, CancellationToken token)
    {
        using var http = LoadGenerator.CreateHttpClient(clients * 2, requestTimeout);
        var target = cluster.Target;
        var value = BenchSettings.Value(valueSize);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var workers = Enumerable.Range(0, clients).Select(i => Task.Run(() => WriteLoopAsync(http, target, value, i, stop.Token), CancellationToken.None)).ToArray();
        var results = new List<Trial>();
        try
        {
            for (var number = 1; number <= trials; number++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), token); // steady load before the kill
                var leader = await WaitForLeaderAsync(token);
                var termBefore = await target.TermAsync(http, token) ?? -1;
                Interlocked.Exchange(ref _firstSuccessAfterKill, 0);
                var killedAtUtc = DateTime.UtcNow;
                var killedAt = Stopwatch.GetTimestamp();
                cluster.Kill(leader); // returns once the process has exited
                Interlocked.Exchange(ref _deadAt, Stopwatch.GetTimestamp());
                var clock = Stopwatch.StartNew();
                while (Interlocked.Read(ref _firstSuccessAfterKill) == 0)
                {
                    if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new BenchException($"{cluster.Name}: no write succeeded within 60 s of killing the leader");
                    await Task.Delay(1, token);
                }
                var failoverMs = Stopwatch.GetElapsedTime(killedAt, Interlocked.Read(ref _firstSuccessAfterKill)).TotalMilliseconds;
                Interlocked.Exchange(ref _deadAt, 0);
                var newLeader = await WaitForLeaderAsync(token);
                var termAfter = await target.TermAsync(http, token) ?? -1;
                var trial = new Trial(number, Member(leader), killedAtUtc, Math.Round(failoverMs, 1), termBefore, termAfter, Member(newLeader));
                results.Add(trial);
                onTrial(trial);
                await cluster.RestartAsync(leader, token);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }
        var lost = await CountLostAsync(http, target, token);
        var sorted = results.Select(t => t.FailoverMs).Order().ToList();
        return new Report(cluster.Name, clients, writesPerSecond, results, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Count > 0 ? sorted[^1] : 0,
            _acknowledged.Count, lost, new SortedDictionary<string, long>(_errors, StringComparer.Ordinal));
    }

    private static string Member(int index) => $"member {index + 1}";

    private static double Percentile(List<double> sorted, double quantile) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count) - 1, 0, sorted.Count - 1)];

    private async Task<int> WaitForLeaderAsync(CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await cluster.LeaderAsync(token) is { } leader) return leader;
            await Task.Delay(20, token);
        }
        throw new BenchException($"{cluster.Name}: no leader within 60 s");
    }

    private async Task WriteLoopAsync(HttpClient http, BenchTarget target, string value, int client, CancellationToken stop)
    {
        var endpoints = cluster.ClientUrls;
        var endpoint = client % endpoints.Count;
        var interval = TimeSpan.FromSeconds(clients / writesPerSecond);
        var next = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var key = Interlocked.Increment(ref _nextKey);
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = target.Request(endpoints[endpoint], BenchWorkload.KvPut, key, value);
                using var response = await http.SendAsync(request, stop);
                if (response.IsSuccessStatusCode)
                {
                    _acknowledged.Enqueue(key);
                    var deadAt = Interlocked.Read(ref _deadAt);
                    if (deadAt != 0 && started > deadAt) Interlocked.CompareExchange(ref _firstSuccessAfterKill, Stopwatch.GetTimestamp(), 0);
                    continue;
                }
                _errors.AddOrUpdate(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _errors.AddOrUpdate(e is TaskCanceledException ? "timeout" : "connection", 1, (_, n) => n + 1);
            }
            endpoint = (endpoint + 1) % endpoints.Count; // try another member after an error, as a client would
            next = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Reads every acknowledged key back through the leader; counts the ones that are missing.</summary>
    private async Task<long> CountLostAsync(HttpClient http, BenchTarget target, CancellationToken token)
    {
        var endpoints = await target.ResolveEndpointsAsync(http, token);
        var keys = _acknowledged.ToArray();
        long lost = 0;
        long next = -1;
        var readers = Enumerable.Range(0, 32).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < keys.Length; i = Interlocked.Increment(ref next))
            {
                using var request = target.Request(endpoints[0], BenchWorkload.KvGet, keys[i], "");
                using var response = await http.SendAsync(request, token);
                var body = await response.Content.ReadAsStringAsync(token);
                // RaftMall answers 404 for a missing key; etcd answers 200 without "kvs".
                if (!response.IsSuccessStatusCode || (target is EtcdTarget && !body.Contains("\"kvs\"", StringComparison.Ordinal))) Interlocked.Increment(ref lost);
            }
        });
        await Task.WhenAll(readers);
        return lost;
    }
}
