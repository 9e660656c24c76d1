using System.Diagnostics;
using System.Runtime;

namespace RaftMall.Node.Observability;

/// <summary>
/// Keeps the runtime's background GC thread alive, so that no background collection has to create it while every
/// managed thread is suspended.
/// <para>
/// With the workstation concurrent GC (this node's setting), the thread that runs background gen2 collections exits
/// when it has had none for 20 seconds, and the next background collection creates it again while the runtime holds
/// every managed thread: the process waits until the new thread has started and done its first marking. Traced on a
/// loaded 2-vCPU machine with a 500–800 MB heap (docs/benchmarks.md, "Elections under load: the background GC
/// thread"), background collections 35–40 s apart each recreated the thread, and five of twelve such collections held
/// the process for 389–776 ms (never more than 22 ms when the thread was already there): longer than an election
/// timeout, so a leader held that way lost its leadership.
/// </para>
/// <para>
/// So when the process has had no gen2 collection for <see cref="Interval"/> (15 s by default,
/// <c>RaftMall:BackgroundGcKeepAliveSeconds</c>; 0 turns this off), it starts a background one itself. Under load the
/// runtime's own collections are often closer than that, and then this does nothing; otherwise it costs one concurrent
/// mark of the heap per interval, on the background thread, with two pauses of a few milliseconds.
/// </para>
/// </summary>
public sealed partial class BackgroundGcKeeper(IConfiguration configuration, ILogger<BackgroundGcKeeper> logger) : BackgroundService
{
    /// <summary>Configuration key: seconds without a gen2 collection after which one is started (0: never).</summary>
    public const string IntervalKey = "RaftMall:BackgroundGcKeepAliveSeconds";

    /// <summary>The default interval: clearly under the runtime's 20 s idle timeout of the background GC thread.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(15);

    private long _started;

    /// <summary>Background collections this keeper started.</summary>
    public long Started => Interlocked.Read(ref _started);

    private TimeSpan Interval => configuration.GetValue<double?>(IntervalKey) is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultInterval;

    /// <summary>Whether the runtime runs gen2 collections in the background on a thread that can idle out.</summary>
    public static bool Applies => !GCSettings.IsServerGC && GCSettings.LatencyMode != GCLatencyMode.Batch;

    /// <summary>
    /// Whether to start a background collection now: the last gen2 collection seen (at <paramref name="lastGen2"/>,
    /// a <see cref="Stopwatch"/> timestamp) is <paramref name="interval"/> or more ago.
    /// </summary>
    public static bool Due(long lastGen2, long now, TimeSpan interval) =>
        interval > TimeSpan.Zero && Stopwatch.GetElapsedTime(lastGen2, now) >= interval;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = Interval;
        if (interval <= TimeSpan.Zero || !Applies) return;
        LogKeeping(interval.TotalSeconds);
        var seen = GC.CollectionCount(2);
        var lastGen2 = Stopwatch.GetTimestamp();
        // Looks four times per interval, so a collection is started at most a quarter of an interval late.
        using var timer = new PeriodicTimer(interval / 4);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var count = GC.CollectionCount(2);
            var now = Stopwatch.GetTimestamp();
            if (count != seen) (seen, lastGen2) = (count, now);
            if (!Due(lastGen2, now, interval)) continue;
            GC.Collect(2, GCCollectionMode.Forced, blocking: false);
            (seen, lastGen2) = (GC.CollectionCount(2), now);
            Interlocked.Increment(ref _started);
            NodeTelemetry.KeepAliveCollections.Add(1);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "background GC kept alive: a background gen2 collection is started after {Seconds:F0} s without one")]
    private partial void LogKeeping(double seconds);
}
