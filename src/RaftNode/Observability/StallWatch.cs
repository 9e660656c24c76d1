using System.Diagnostics;

namespace RaftMall.Node.Observability;

/// <summary>
/// Notices when this process stopped running for a while, and says why where the runtime can tell: a follower whose
/// leader stalls for longer than an election timeout starts an election, so a stall under load is the first thing to
/// look for when one happens without a fault (docs/benchmarks.md, elections under load).
/// <para>
/// Two probes, each every <see cref="Interval"/>:
/// <list type="bullet">
/// <item><b>process</b>: a dedicated thread (above normal priority, outside the thread pool) sleeps and measures how
/// late it woke. A late wake-up means the whole process was held: the garbage collector suspended every thread, or the
/// machine gave the process no CPU. The runtime's total GC pause time (<see cref="GC.GetTotalPauseDuration"/>) over
/// the same span says how much of it was the collector.</item>
/// <item><b>thread pool</b>: a work item queued to the pool measures how long it waited to run. A long wait while the
/// process probe saw none means the pool had no free thread (starvation): Kestrel's requests, DotNext's timers and
/// RaftMall's drivers all run there.</item>
/// </list>
/// A stall longer than <see cref="Threshold"/> is logged as a warning with the GC's share and counted in
/// <c>raftmall.runtime.stalls</c>; every stall feeds <c>raftmall.runtime.stall.duration</c>.
/// </para>
/// </summary>
public sealed partial class StallWatch(ILogger<StallWatch> logger) : IHostedService, IDisposable
{
    /// <summary>How often each probe looks.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(25);

    /// <summary>Stalls from this long on are logged: half the default lower election timeout.</summary>
    public static readonly TimeSpan Threshold = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _stop = new();
    private Thread? _processProbe;
    private Task? _poolProbe;

    /// <summary>
    /// What one look found: the probe woke or ran <paramref name="late"/> after it should have, while the runtime's GC
    /// pauses grew by <paramref name="gcPause"/>. Returns the stall to report, or null when it is under the threshold.
    /// </summary>
    public static Stall? Judge(string probe, TimeSpan late, TimeSpan gcPause) =>
        late < Threshold ? null : new Stall(probe, late, gcPause < TimeSpan.Zero ? TimeSpan.Zero : gcPause > late ? late : gcPause);

    /// <summary>A stall: which probe saw it, how long, and how much of it the garbage collector's pauses account for.</summary>
    public sealed record Stall(string Probe, TimeSpan Duration, TimeSpan GcPause);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _processProbe = new Thread(WatchProcess) { IsBackground = true, Name = "RaftMall stall watch", Priority = ThreadPriority.AboveNormal };
        _processProbe.Start();
        _poolProbe = Task.Run(WatchThreadPoolAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_poolProbe is { } pool) await pool.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stop.Dispose();

    private void WatchProcess()
    {
        while (!_stop.IsCancellationRequested)
        {
            var gcBefore = GC.GetTotalPauseDuration();
            var collections = Collections.Now();
            var started = Stopwatch.GetTimestamp();
            Thread.Sleep(Interval);
            var late = Stopwatch.GetElapsedTime(started) - Interval;
            Report(Judge("process", late, GC.GetTotalPauseDuration() - gcBefore), late, collections);
        }
    }

    private async Task WatchThreadPoolAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            // Queued now; how long until a pool thread picks it up.
            var gcBefore = GC.GetTotalPauseDuration();
            var collections = Collections.Now();
            var queued = Stopwatch.GetTimestamp();
            var waited = await Task.Factory.StartNew(() => Stopwatch.GetElapsedTime(queued), CancellationToken.None,
                TaskCreationOptions.PreferFairness, TaskScheduler.Default).ConfigureAwait(false);
            Report(Judge("thread pool", waited, GC.GetTotalPauseDuration() - gcBefore), waited, collections);
        }
    }

    private void Report(Stall? stall, TimeSpan late, Collections before)
    {
        if (late > TimeSpan.Zero) NodeTelemetry.StallDuration.Record(late.TotalSeconds);
        if (stall is null) return;
        NodeTelemetry.Stalls.Add(1, new KeyValuePair<string, object?>("probe", stall.Probe));
        var during = Collections.Now() - before;
        LogStall(stall.Probe, stall.Duration.TotalMilliseconds, stall.GcPause.TotalMilliseconds, during.Gen0, during.Gen1, during.Gen2,
            GC.GetGCMemoryInfo().HeapSizeBytes / (1024 * 1024), ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount);
    }

    /// <summary>
    /// How many collections of each generation the runtime has done (a gen2 collection counts as gen1 and gen0 too,
    /// as <see cref="GC.CollectionCount"/> does): the difference over a stall says which kind of collection held it.
    /// </summary>
    private readonly record struct Collections(int Gen0, int Gen1, int Gen2)
    {
        public static Collections Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

        public static Collections operator -(Collections after, Collections before) =>
            new(after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Probe} stalled {StallMs:F0} ms (GC pauses {GcMs:F0} ms of it, collections gen0 {Gen0} gen1 {Gen1} gen2 {Gen2}, heap {HeapMiB} MiB; "
            + "thread pool {Threads} threads, {Queued} items queued)")]
    private partial void LogStall(string probe, double stallMs, double gcMs, int gen0, int gen1, int gen2, long heapMiB, int threads, long queued);
}
