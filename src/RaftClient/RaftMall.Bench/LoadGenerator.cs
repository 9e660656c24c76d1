using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using HdrHistogram;

namespace RaftMall.Bench;

/// <summary>
/// N clients, each sending one request at a time for the run's duration (closed loop, like wrk): keys uniform over the
/// key space, latency of every measured request into an HDR histogram, errors counted by kind.
/// </summary>
public sealed class LoadGenerator(BenchTarget target, BenchSettings settings)
{
    /// <summary>Highest latency the histograms can hold, in microseconds (a request times out long before).</summary>
    private const long HighestLatencyUs = 120_000_000;

    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _completed;
    private long _failed;

    public static HttpClient CreateHttpClient(int connections, TimeSpan requestTimeout) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = Math.Max(1, connections),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseProxy = false,
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(2),
    })
    {
        Timeout = requestTimeout,
    };

    /// <summary>Runs warm-up then the measured phase; `progress` gets (elapsed, ops/s of the last second, errors).</summary>
    public async Task<BenchResult> RunAsync(Action<TimeSpan, double, long>? progress, CancellationToken token)
    {
        using var http = CreateHttpClient(settings.Clients, settings.RequestTimeout);
        var endpoints = await target.ResolveEndpointsAsync(http, token);
        await target.PrepareAsync(http, endpoints[0], settings.Workload, settings, token);
        var termBefore = await target.TermAsync(http, token);

        var value = BenchSettings.Value(settings.ValueSize);
        var histograms = Enumerable.Range(0, settings.Clients).Select(_ => new LongHistogram(HighestLatencyUs, 3)).ToArray();
        var measuring = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var workers = Enumerable.Range(0, settings.Clients).Select(i =>
        {
            var endpoint = settings.LeaderOnly ? endpoints[0] : endpoints[i % endpoints.Length];
            return Task.Run(() => ClientLoopAsync(http, endpoint, value, histograms[i], i, () => Volatile.Read(ref measuring) == 1, stop.Token), CancellationToken.None);
        }).ToArray();

        await Task.Delay(settings.Warmup, token);
        Interlocked.Exchange(ref _completed, 0);
        Interlocked.Exchange(ref _failed, 0);
        Volatile.Write(ref measuring, 1);
        var pathBefore = await target.SampleWritePathAsync(http, endpoints, token);
        var cpu = CpuSample.Take(target.ServerPids());
        var clock = Stopwatch.StartNew();
        var lastCompleted = 0L;
        var lastAt = TimeSpan.Zero;
        while (clock.Elapsed < settings.Duration)
        {
            var remaining = settings.Duration - clock.Elapsed;
            await Task.Delay(remaining < TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1), token);
            var completed = Interlocked.Read(ref _completed);
            var now = clock.Elapsed;
            progress?.Invoke(now, (completed - lastCompleted) / Math.Max(1e-3, (now - lastAt).TotalSeconds), Interlocked.Read(ref _failed));
            (lastCompleted, lastAt) = (completed, now);
        }
        Volatile.Write(ref measuring, 0);
        var elapsed = clock.Elapsed;
        var cpuUsed = cpu.Since();
        var pathAfter = pathBefore is null ? null : await target.SampleWritePathAsync(http, endpoints, token);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        var termAfter = await target.TermAsync(http, token);

        var merged = new LongHistogram(HighestLatencyUs, 3);
        foreach (var histogram in histograms) merged.Add(histogram);
        var result = BenchResult.From(target.Name, settings, merged, Interlocked.Read(ref _completed), elapsed, new SortedDictionary<string, long>(_errors, StringComparer.Ordinal), cpuUsed, termBefore, termAfter, endpoints[0]);
        return pathBefore is not null && pathAfter is not null && settings.Workload != BenchWorkload.KvGet
            ? result with { WritePath = WritePath.Between(pathBefore, pathAfter, result.LatencyMs.Mean) }
            : result;
    }

    private async Task ClientLoopAsync(HttpClient http, Uri endpoint, string value, LongHistogram histogram, int client, Func<bool> measuring, CancellationToken stop)
    {
        var random = new Random(client * 7919 + 17);
        while (!stop.IsCancellationRequested)
        {
            var key = random.NextInt64(settings.Keys);
            using var request = target.Request(endpoint, settings.Workload, key, value);
            var started = Stopwatch.GetTimestamp();
            string? error;
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, stop);
                error = response.IsSuccessStatusCode ? null : await DescribeAsync(response, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (TaskCanceledException)
            {
                error = "timeout";
            }
            catch (HttpRequestException e)
            {
                error = e.InnerException is SocketException socket ? $"connection: {socket.SocketErrorCode}" : $"connection: {e.HttpRequestError}";
            }
            if (!measuring()) continue;
            if (error is null)
            {
                histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                Interlocked.Increment(ref _completed);
            }
            else
            {
                _errors.AddOrUpdate(error, 1, (_, n) => n + 1);
                Interlocked.Increment(ref _failed);
                await Task.Delay(10, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // no hot loop against a failing endpoint
            }
        }
    }

    /// <summary>"503 no_leader": the status and, for RFC 7807 answers, the machine-readable code.</summary>
    private static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken token)
    {
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            var body = await response.Content.ReadAsStringAsync(token);
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String ? $"{status} {code.GetString()}" : status;
        }
        catch (JsonException)
        {
            return status;
        }
        catch (HttpRequestException)
        {
            return status;
        }
    }
}

/// <summary>CPU time of this process and of the server processes, to show who used the machine during a run.</summary>
public sealed class CpuSample
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly TimeSpan _self;
    private readonly Dictionary<int, TimeSpan> _servers;

    private CpuSample(IReadOnlyList<int> pids)
    {
        _self = Process.GetCurrentProcess().TotalProcessorTime;
        _servers = pids.Select(p => (p, ProcessCpu(p))).Where(x => x.Item2 is not null).ToDictionary(x => x.p, x => x.Item2!.Value);
    }

    public static CpuSample Take(IReadOnlyList<int> pids) => new(pids);

    /// <summary>Cores used on average since the sample: (load generator, all server processes together).</summary>
    public (double GeneratorCores, double? ServerCores) Since()
    {
        var wall = _wall.Elapsed.TotalSeconds;
        var self = (Process.GetCurrentProcess().TotalProcessorTime - _self).TotalSeconds / wall;
        if (_servers.Count == 0) return (self, null);
        var servers = _servers.Sum(kv => ((ProcessCpu(kv.Key) ?? kv.Value) - kv.Value).TotalSeconds) / wall;
        return (self, servers);
    }

    /// <summary>utime + stime of a process from /proc (Linux), or null when it is gone.</summary>
    private static TimeSpan? ProcessCpu(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
        }
        catch (IOException)
        {
            return null;
        }
    }
}
