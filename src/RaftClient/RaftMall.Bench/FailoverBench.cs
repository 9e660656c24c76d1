using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace RaftMall.Bench;

/// <summary>The fault a failover trial does to the leader.</summary>
public enum FailoverFault
{
    /// <summary>kill -9, then a restart.</summary>
    Kill,

    /// <summary>SIGSTOP, then SIGCONT once a new leader is confirmed.</summary>
    Pause,

    /// <summary>Its traffic to and from the other members is cut (network namespaces), then healed.</summary>
    Partition,
}

/// <summary>
/// Failover timing: steady paced kv-put load from clients spread over every member, a fault of the leader (kill -9,
/// SIGSTOP, or a partition that isolates it), time from the fault to the first acknowledged write that was sent after
/// the fault was complete; then the member is restarted, resumed or reconnected and the next trial waits for a healthy
/// cluster. For a pause or a partition it also measures when the old leader stops claiming leadership. At the end
/// every acknowledged key is read back (linearizable) to prove none was lost.
/// </summary>
public sealed class FailoverBench(BenchCluster cluster, int clients, double writesPerSecond, int valueSize, TimeSpan requestTimeout, FailoverFault fault = FailoverFault.Kill)
{
    /// <summary>Keys of this benchmark start here, far from the `bench-0..keys` space of the load runs.</summary>
    private const long FirstKey = 1_000_000_000_000;

    /// <summary>The old leader gets this long to stop claiming leadership, and to follow the new one.</summary>
    private static readonly TimeSpan StepDownLimit = TimeSpan.FromSeconds(30);

    /// <summary>A paused leader is resumed after this long even when no write got through the others meanwhile.</summary>
    private static readonly TimeSpan PauseLimit = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan StatusTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// One fault (the names say "killed" for every fault, as before there were others); <see cref="KilledAtUtc"/> is
    /// the wall-clock time of the fault, to match the members' logs. <see cref="StepDownMs"/> is when the old leader
    /// stopped saying it leads: after a partition from the cut, after a pause from SIGCONT (a frozen process says
    /// nothing); null after a kill, or when it still claimed leadership after 30 s. <see cref="RejoinedAsFollower"/>:
    /// every member followed one leader, not the old one, within 30 s of SIGCONT or of the heal (null after a kill).
    /// <see cref="ResumedAfterMs"/> (pauses): when SIGCONT was sent, counted from the fault; normally once a new leader is
    /// confirmed, but after 10 s without a write through the others, in which case the failover includes the frozen time
    /// and there is no step-down to measure.
    /// </summary>
    public sealed record Trial(int Number, string KilledMember, DateTime KilledAtUtc, double FailoverMs, long TermBefore, long TermAfter, string NewLeader,
        double? StepDownMs = null, bool? RejoinedAsFollower = null, double? ResumedAfterMs = null)
    {
        /// <summary>Milliseconds from the fault until a survivor's election timer fired (its log), RaftMall only.</summary>
        public double? DetectedMs { get; init; }

        /// <summary>Milliseconds from the fault until the new leader took over (its log), RaftMall only.</summary>
        public double? ElectedMs { get; init; }

        /// <summary>Milliseconds from the fault until the new leader committed the first entry of its term (its log).</summary>
        public double? CommittedMs { get; init; }
    }

    /// <summary>The run's figures; the step-down ones are null after kills and cover only the trials where the old leader stepped down.</summary>
    public sealed record Report(string Cluster, int Clients, double WritesPerSecond, IReadOnlyList<Trial> Trials, double P50Ms, double P99Ms, double MaxMs,
        long AcknowledgedWrites, long LostWrites, IReadOnlyDictionary<string, long> Errors,
        string Fault = "kill", double? StepDownP50Ms = null, double? StepDownP99Ms = null, double? StepDownMaxMs = null)
    {
        /// <summary>Median of <see cref="Trial.DetectedMs"/> (null when no trial has one).</summary>
        public double? DetectedP50Ms => Median(Trials.Select(t => t.DetectedMs));

        /// <summary>Median of <see cref="Trial.ElectedMs"/>.</summary>
        public double? ElectedP50Ms => Median(Trials.Select(t => t.ElectedMs));

        /// <summary>Median of <see cref="Trial.CommittedMs"/>.</summary>
        public double? CommittedP50Ms => Median(Trials.Select(t => t.CommittedMs));

        private static double? Median(IEnumerable<double?> values)
        {
            var sorted = values.OfType<double>().Order().ToList();
            return sorted.Count == 0 ? null : Percentile(sorted, 0.50);
        }
    }

    private readonly ConcurrentQueue<long> _acknowledged = new();
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _nextKey = FirstKey;
    // Writes count toward the failover only when sent after the fault is complete: the old leader keeps running for a
    // few milliseconds after SIGKILL is sent and can still commit a write (one trial measured 22 ms that way); SIGSTOP
    // too is only queued when kill() returns, and a partition is a series of iptables rules.
    private long _deadAt;
    private long _firstSuccessAfterKill;

    public static string Name(FailoverFault fault) => fault.ToString().ToLowerInvariant();

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
                await Task.Delay(TimeSpan.FromSeconds(1), token); // steady load before the fault
                var leader = await WaitForLeaderAsync(null, token);
                var termBefore = (await cluster.MemberStatusAsync(leader, StatusTimeout, token))?.Term ?? -1;
                Interlocked.Exchange(ref _firstSuccessAfterKill, 0);
                var killedAtUtc = DateTime.UtcNow;
                var killedAt = Stopwatch.GetTimestamp();
                Inject(leader); // returns once the fault is complete
                Interlocked.Exchange(ref _deadAt, Stopwatch.GetTimestamp());
                // The isolated leader still answers this machine (only node-to-node traffic is cut): watch it from the cut on.
                var stepDown = fault == FailoverFault.Partition ? StepDownAsync(leader, killedAt, token) : null;
                double? resumedAfterMs = null;
                if (fault == FailoverFault.Pause && !await FirstWriteAsync(PauseLimit, token))
                {
                    // No write through the majority while the leader is frozen: let it go on, so that the run goes on too,
                    // and say so in the trial (its failover then includes the frozen time).
                    resumedAfterMs = Math.Round(Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds, 1);
                    cluster.Unpause(leader);
                }
                if (!await FirstWriteAsync(TimeSpan.FromSeconds(60), token)) throw new BenchException($"{cluster.Name}: no write succeeded within 60 s of the {Name(fault)} of the leader");
                var failoverMs = Stopwatch.GetElapsedTime(killedAt, Interlocked.Read(ref _firstSuccessAfterKill)).TotalMilliseconds;
                Interlocked.Exchange(ref _deadAt, 0);
                var newLeader = await WaitForLeaderAsync(resumedAfterMs is null ? leader : null, token);
                var termAfter = (await cluster.MemberStatusAsync(newLeader, StatusTimeout, token))?.Term ?? -1;
                double? stepDownMs = null;
                bool? rejoined = null;
                if (fault == FailoverFault.Pause)
                {
                    if (resumedAfterMs is null)
                    {
                        var resumedAt = Stopwatch.GetTimestamp();
                        resumedAfterMs = Math.Round(Stopwatch.GetElapsedTime(killedAt, resumedAt).TotalMilliseconds, 1);
                        cluster.Unpause(leader);
                        stepDownMs = await StepDownAsync(leader, resumedAt, token);
                    }
                    rejoined = await cluster.WaitFollowingAsync(leader, StepDownLimit, token);
                }
                else if (fault == FailoverFault.Partition)
                {
                    stepDownMs = await stepDown!;
                    cluster.Heal();
                    rejoined = await cluster.WaitFollowingAsync(leader, StepDownLimit, token);
                }
                var stages = cluster.StagesSince(killedAtUtc, newLeader, termAfter);
                var trial = new Trial(number, Member(leader), killedAtUtc, Math.Round(failoverMs, 1), termBefore, termAfter, Member(newLeader), stepDownMs, rejoined, resumedAfterMs)
                {
                    DetectedMs = stages?.DetectedMs,
                    ElectedMs = stages?.ElectedMs,
                    CommittedMs = stages?.CommittedMs,
                };
                results.Add(trial);
                onTrial(trial);
                if (fault == FailoverFault.Kill) await cluster.RestartAsync(leader, token);
                else await cluster.WaitHealthyAsync(TimeSpan.FromSeconds(60), token);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }
        var lost = await CountLostAsync(http, target, token);
        var sorted = results.Select(t => t.FailoverMs).Order().ToList();
        var stepDowns = results.Select(t => t.StepDownMs).OfType<double>().Order().ToList();
        double? StepDown(double quantile) => stepDowns.Count == 0 ? null : Percentile(stepDowns, quantile);
        return new Report(cluster.Name, clients, writesPerSecond, results, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Count > 0 ? sorted[^1] : 0,
            _acknowledged.Count, lost, new SortedDictionary<string, long>(_errors, StringComparer.Ordinal),
            Name(fault), StepDown(0.50), StepDown(0.99), StepDown(1.0));
    }

    /// <summary>Waits for the first acknowledged write sent after the fault was complete; false after <paramref name="limit"/>.</summary>
    private async Task<bool> FirstWriteAsync(TimeSpan limit, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (Interlocked.Read(ref _firstSuccessAfterKill) == 0)
        {
            if (clock.Elapsed > limit) return false;
            await Task.Delay(1, token);
        }
        return true;
    }

    private void Inject(int leader)
    {
        switch (fault)
        {
            case FailoverFault.Kill: cluster.Kill(leader); break; // returns once the process has exited
            case FailoverFault.Pause: cluster.Pause(leader); break; // returns once every thread has stopped
            case FailoverFault.Partition: cluster.Isolate(leader); break; // returns once every rule is in
        }
    }

    /// <summary>
    /// Milliseconds from <paramref name="from"/> to the first answer of <paramref name="member"/> that no longer claims
    /// leadership; null when it still does (or does not answer) after <see cref="StepDownLimit"/>.
    /// </summary>
    private async Task<double?> StepDownAsync(int member, long from, CancellationToken token)
    {
        while (Stopwatch.GetElapsedTime(from) < StepDownLimit)
        {
            if (await cluster.MemberStatusAsync(member, StatusTimeout, token) is { Leader: false }) return Math.Round(Stopwatch.GetElapsedTime(from).TotalMilliseconds, 1);
            await Task.Delay(10, token);
        }
        return null;
    }

    private static string Member(int index) => $"member {index + 1}";

    private static double Percentile(List<double> sorted, double quantile) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>
    /// The leader a majority of the members agrees on (the harness's <see cref="Harness.Leadership"/> rule: every
    /// answering member names it), asking every member but <paramref name="not"/>: a paused one would make every round
    /// wait for its timeout, and an isolated one still says it leads.
    /// </summary>
    private async Task<int> WaitForLeaderAsync(int? not, CancellationToken token) =>
        await cluster.WaitForLeaderAsync(Enumerable.Range(0, BenchCluster.Members).Where(m => m != not), quorum: BenchCluster.Members / 2 + 1,
            StatusTimeout, caughtUp: false, TimeSpan.FromSeconds(60), token)
        ?? throw new BenchException($"{cluster.Name}: no leader within 60 s");

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

    /// <summary>
    /// Whether <paramref name="key"/> is there. Only a definite answer counts (RaftMall's 404, etcd's 200 without "kvs"):
    /// a timeout, a dropped connection or a 5xx (a member just restarted, an election) is tried again, on every member
    /// in turn, and ten failures in a row end the run with the reason rather than count the key as lost.
    /// </summary>
    private static async Task<bool> PresentAsync(HttpClient http, BenchTarget target, Uri[] endpoints, long key, CancellationToken token)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                using var request = target.Request(endpoints[attempt % endpoints.Length], BenchWorkload.KvGet, key, "");
                using var response = await http.SendAsync(request, token);
                var body = await response.Content.ReadAsStringAsync(token);
                if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return false;
                if (response.IsSuccessStatusCode) return target is not EtcdTarget || body.Contains("\"kvs\"", StringComparison.Ordinal);
                last = new HttpRequestException($"{(int)response.StatusCode} {body}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !token.IsCancellationRequested)
            {
                last = e;
            }
            await Task.Delay(100, token);
        }
        throw new BenchException($"could not read acknowledged key {key} back: {last?.Message}");
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
                if (!await PresentAsync(http, target, endpoints, keys[i], token)) Interlocked.Increment(ref lost);
            }
        });
        await Task.WhenAll(readers);
        return lost;
    }
}
