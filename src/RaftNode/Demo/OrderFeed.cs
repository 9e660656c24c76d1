using System.Diagnostics;

namespace RaftMall.Node.Demo;

/// <summary>
/// Demo mode only: a bounded stream of orders placed through the cluster from this node, over HTTP as a client
/// (<see cref="DemoWriter"/>: leader preference, retries with idempotency keys), so it keeps going through a failover. It records every pause
/// between two consecutive acknowledged orders longer than a few intervals: the write gap a failover causes, measured
/// from the last write before it to the first after it.
/// </summary>
public sealed partial class OrderFeed(NodeSettings settings, DemoOptions options, IHttpClientFactory clients, Consensus.IConsensus consensus, ILogger<OrderFeed> logger) : IDisposable
{
    public const int MaxOrdersPerSecond = 200;
    public const int MaxDurationSeconds = 600;
    public const int DefaultOrdersPerSecond = 50;
    public const int DefaultDurationSeconds = 60;

    /// <summary>Orders in flight at once: enough to keep the rate while a slow write waits, few enough to stay gentle.</summary>
    public const int MaxInFlight = 16;

    /// <summary>Shortest pause between two acknowledged orders that is reported as a gap (and at least 4 intervals).</summary>
    public const int MinGapMs = 150;

    public const string Sku = "demo-widget";

    /// <summary>Stock the stream sets before it starts; its orders expire after <see cref="OrderTtlSeconds"/> and release it.</summary>
    public const long StockAvailable = 1_000_000;

    public const int OrderTtlSeconds = 20;

    private const int KeptGaps = 10;

    private readonly Lock _lock = new();
    private CancellationTokenSource? _running;
    private Run? _run;

    /// <summary>Where a stream handed over by another node left off, so its counts and gap measure continue here.</summary>
    public sealed record Carry(long Acknowledged, long Failed, DateTimeOffset? LastAcknowledgedAt);

    public sealed record Gap(DateTimeOffset From, DateTimeOffset To, long Ms);

    public sealed record Status(
        bool Running, string HostNodeId, int OrdersPerSecond, DateTimeOffset StartedAt, DateTimeOffset EndsAt,
        long Acknowledged, long Failed, int InFlight, DateTimeOffset? LastAcknowledgedAt, Gap[] Gaps, string? StoppedBecause);

    public Status? Current
    {
        get
        {
            lock (_lock) return _run?.Snapshot(_running is { IsCancellationRequested: false });
        }
    }

    /// <summary>Starts a stream; false when one is already running here.</summary>
    public bool TryStart(int ordersPerSecond, TimeSpan duration, Carry? carry)
    {
        lock (_lock)
        {
            if (_running is { IsCancellationRequested: false }) return false;
            _running?.Dispose();
            _running = new CancellationTokenSource(duration);
            _run = new Run(settings.NodeId, ordersPerSecond, DateTimeOffset.UtcNow, duration, carry);
            var token = _running.Token;
            var run = _run;
            _ = Task.Run(() => RunAsync(run, token), CancellationToken.None);
            LogStarted(ordersPerSecond, (int)duration.TotalSeconds);
            return true;
        }
    }

    public void Stop()
    {
        lock (_lock) _running?.Cancel();
    }

    public void Dispose()
    {
        Stop();
        lock (_lock) _running?.Dispose();
    }

    private async Task RunAsync(Run run, CancellationToken token)
    {
        var cluster = settings.Cluster;
        // It sets the demo sku's stock (admin) and places orders: the admin key of the node's own credentials, or the
        // configured one. The stream is a client like any other.
        // The members as the directory knows them (one that cluster.yml does not list included); the bootstrap list
        // only on a node that knows no configuration yet.
        var members = consensus.Members.Count > 0 ? consensus.Members : cluster.Nodes;
        var client = new DemoWriter(
            clients.CreateClient(DemoEndpoints.ClientName), [.. members.Select(n => n.Uri)],
            options.ApiKey ?? cluster.EffectiveCredentials()?.KeyFor(Contract.ClientRole.Admin));
        using var slots = new SemaphoreSlim(MaxInFlight);
        var prefix = $"demo-{settings.NodeId}-{run.StartedAt.ToUnixTimeMilliseconds()}";
        try
        {
            await client.WriteAsync(HttpMethod.Put, $"/api/stock/{Sku}", new Contract.StockRequest(StockAvailable), $"{prefix}-stock", token);
            var clock = Stopwatch.StartNew();
            for (long i = 0; !token.IsCancellationRequested; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / run.OrdersPerSecond);
                if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed, token);
                await slots.WaitAsync(token);
                var sequence = i;
                _ = Task.Run(async () =>
                {
                    run.Sending();
                    try
                    {
                        await client.WriteAsync(HttpMethod.Post, "/api/orders",
                            new Contract.PlaceOrderRequest($"{prefix}-{sequence}", null, [new(Sku, 1)], OrderTtlSeconds), $"{prefix}-{sequence}", CancellationToken.None);
                        run.Acknowledged(DateTimeOffset.UtcNow);
                    }
                    catch (DemoWriteException)
                    {
                        run.Failed();
                    }
                    finally
                    {
                        run.Answered();
                        slots.Release();
                    }
                }, CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
            // the duration ended or Stop was called
        }
        catch (DemoWriteException e)
        {
            run.Stopped(e.Message);
            LogFailed(e.Message);
        }
        // Let the orders in flight finish before the client goes away.
        for (var i = 0; i < MaxInFlight; i++) await slots.WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
        lock (_lock)
        {
            if (_run == run) _running?.Cancel();
        }
        var final = run.Snapshot(running: false);
        LogStopped(final.Acknowledged, final.Failed);
    }

    /// <summary>One stream's counters; updated from the order tasks, read by the status endpoint.</summary>
    private sealed class Run(string hostNodeId, int ordersPerSecond, DateTimeOffset startedAt, TimeSpan duration, Carry? carry)
    {
        private readonly Lock _lock = new();
        private readonly Queue<Gap> _gaps = new();
        private readonly long _gapThresholdMs = Math.Max(MinGapMs, 4_000 / ordersPerSecond);
        private DateTimeOffset? _lastAcknowledgedAt = carry?.LastAcknowledgedAt;
        private long _acknowledged = carry?.Acknowledged ?? 0;
        private long _failed = carry?.Failed ?? 0;
        private int _inFlight;
        private string? _stoppedBecause;

        public int OrdersPerSecond => ordersPerSecond;

        public DateTimeOffset StartedAt => startedAt;

        public void Stopped(string reason) => Volatile.Write(ref _stoppedBecause, reason);

        public void Sending() => Interlocked.Increment(ref _inFlight);

        public void Answered() => Interlocked.Decrement(ref _inFlight);

        public void Failed() => Interlocked.Increment(ref _failed);

        public void Acknowledged(DateTimeOffset at)
        {
            lock (_lock)
            {
                _acknowledged++;
                if (_lastAcknowledgedAt is { } last && at - last >= TimeSpan.FromMilliseconds(_gapThresholdMs))
                {
                    _gaps.Enqueue(new Gap(last, at, (long)(at - last).TotalMilliseconds));
                    if (_gaps.Count > KeptGaps) _gaps.Dequeue();
                }
                if (_lastAcknowledgedAt is null || at > _lastAcknowledgedAt) _lastAcknowledgedAt = at;
            }
        }

        public Status Snapshot(bool running)
        {
            lock (_lock)
            {
                return new Status(running, hostNodeId, ordersPerSecond, startedAt, startedAt + duration,
                    _acknowledged, Interlocked.Read(ref _failed), Volatile.Read(ref _inFlight), _lastAcknowledgedAt, [.. _gaps],
                    Volatile.Read(ref _stoppedBecause));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "demo: order stream started, {Rate} orders/s for {Seconds} s")]
    private partial void LogStarted(int rate, int seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "demo: order stream stopped; {Acknowledged} acknowledged, {Failed} failed")]
    private partial void LogStopped(long acknowledged, long failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "demo: order stream could not continue: {Reason}")]
    private partial void LogFailed(string reason);
}
