using System.Globalization;
using System.Text.Json;
using RaftMall.Node.Consensus;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// Push subscriptions, on the leader only. Each subscription has its own loop (a stuck subscriber delays nobody else):
/// it POSTs the next batch of matching events after its position as a JSON array, and a 2xx answer acknowledges the
/// whole batch. A failed batch is sent again, whole, with capped exponential backoff, for ever; after the
/// subscription's <c>maxAttempts</c> failures in a row it is marked stuck and retried every <c>subscriptionRetryMaxMs</c>
/// (an operator's retry calls it at once). Acknowledged positions and failures are recorded in the log together for
/// every subscription, every <c>subscriptionCommitMs</c>: one entry, not one per delivery. A new leader starts each loop
/// from the recorded position after a read barrier, so events are delivered at least once and in order (duplicates of
/// what was acknowledged but not yet recorded, never a gap). Every node runs the driver; whoever leads delivers.
/// </summary>
public sealed partial class SubscriptionDriver(
    IConsensus consensus, ReplicatedState state, Proposer proposer, IHttpClientFactory clients,
    NodeSettings settings, TimeProvider time, ILogger<SubscriptionDriver> logger) : BackgroundService
{
    public const string ClientName = "subscriptions";

    /// <summary>How often the leader looks for subscriptions that no loop delivers (new ones, or all of them at the start of a leadership).</summary>
    public const int ScanIntervalMs = 250;

    /// <summary>Most events one read looks at for a batch (a long run of events that do not match is skipped in steps of this).</summary>
    public const int ScanLimit = 10_000;

    /// <summary>How long an idle loop waits before it looks again when no new event and no operator action woke it.</summary>
    private static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(1);

    private static readonly JsonSerializerOptions BatchJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = Contract.ContractJsonContext.Default,
    };

    private readonly LeaderRuns<Run> _runs = new((name, cancellation) => new Run(name, cancellation));
    private CancellationToken _stopping;

    /// <summary>Registers the driver and its HTTP client: pooled connections, a short connect timeout, no client-wide timeout (every call has its own).</summary>
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton<SubscriptionDriver>();
        services.AddHostedService(sp => sp.GetRequiredService<SubscriptionDriver>());
        services.AddHttpClient(ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(2),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AllowAutoRedirect = false,
                UseProxy = false,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        state.CommandApplied += OnApplied;
        try
        {
            await Task.WhenAll(ScanAsync(stoppingToken), RecordAsync(stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the node stops
        }
        finally
        {
            state.CommandApplied -= OnApplied;
        }
    }

    /// <summary>Starts a loop for every subscription that has none while this node leads (after a barrier at the start of each leadership).</summary>
    private async Task ScanAsync(CancellationToken stoppingToken)
    {
        var resumedFor = CancellationToken.None;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(ScanIntervalMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (consensus.Leadership is not { } leadership) continue;
            try
            {
                if (leadership != resumedFor)
                {
                    // Apply every position the previous leaders recorded before delivering from them.
                    await consensus.ReadBarrierAsync(leadership).ConfigureAwait(false);
                    resumedFor = leadership;
                    var count = state.Read(s => s.ListSubscriptions().Count);
                    if (count > 0)
                    {
                        var term = consensus.Status().Term;
                        LogResuming(count, term);
                    }
                }
                foreach (var subscription in state.Read(s => s.ListSubscriptions())) StartRun(subscription.Name, leadership);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogScanFailed(e.InnerException is { } inner ? $"{e.Message}: {inner.Message}" : e.Message);
            }
        }
    }

    /// <summary>Every <c>subscriptionCommitMs</c>: the progress of every loop that moved, in one log entry.</summary>
    private async Task RecordAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.Cluster.SubscriptionCommitMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (consensus.Leadership is not { } leadership) continue;
            var taken = _runs.All.Select(run => (Run: run, Progress: run.TakeProgress())).Where(p => p.Progress is not null).ToList();
            if (taken.Count == 0) continue;
            var command = new RecordSubscriptionProgress([.. taken.Select(p => p.Progress!.Value)]);
            ProposeOutcome? outcome = null;
            try
            {
                outcome = await proposer.ProposeAsync(command, leadership).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Leadership ended (the next leader delivers again from what is recorded), or the log refused: try again next round.
                if (!leadership.IsCancellationRequested) LogRecordFailed(e.Message);
            }
            if (outcome is ProposeOutcome.Applied { Result: SubscriptionProgressResult })
            {
                NodeTelemetry.SubscriptionRecords.Add(1);
                continue;
            }
            if (outcome is ProposeOutcome.Applied { Result: Rejected rejected })
            {
                LogRecordRejected(rejected.CodeName, rejected.Detail); // a bug, not a condition to retry: the loops' next progress replaces it
                continue;
            }
            // Not recorded (or not known to be): keep it for the next round unless the loop has moved on since.
            foreach (var (run, progress) in taken) run.ReturnProgress(progress!.Value);
        }
    }

    private void OnApplied(MallCommand command)
    {
        switch (command)
        {
            case RetrySubscription c: Wake(c.Name); break;
            case ResumeSubscription c: Wake(c.Name); break;
            case DeleteSubscription c: Wake(c.Name); break;
            case CreateSubscription c when consensus.Leadership is { } leadership: StartRun(c.Spec.Name, leadership); break;
            case CommandBatch batch:
                foreach (var nested in batch.Commands) OnApplied(nested);
                break;
        }
    }

    private void Wake(string name)
    {
        if (_runs.TryGet(name, out var run)) run.WakeUp();
    }

    private void StartRun(string name, CancellationToken leadership) =>
        _runs.Start(name, DeliverAsync, (key, e) => LogRunFailed(key, e.Message), leadership, _stopping);

    /// <summary>One subscription's loop, for as long as this node leads and the subscription exists.</summary>
    private async Task DeliverAsync(Run run)
    {
        var generation = 0L; // none yet: the first read takes the recorded progress
        var position = 0L;
        var attempts = 0;
        var stuck = false;
        var lastError = "";
        var alarmed = 0L;
        while (true)
        {
            run.Token.ThrowIfCancellationRequested();
            var wake = run.WakeSignal;
            var newEvents = state.EventsChanged;
            var batch = state.Read(s => s.GetSubscription(run.Name) is { } current
                ? s.NextDelivery(run.Name, current.Generation == generation ? position : current.Position, ScanLimit)
                : null);
            if (batch is null) return; // deleted
            var subscription = batch.Subscription;
            if (subscription.Generation != generation)
            {
                // A new leadership, or an operator's retry or resume, or a suspension: start from what the log says.
                generation = subscription.Generation;
                position = subscription.Position;
                attempts = subscription.Attempts;
                stuck = subscription.Stuck;
                lastError = subscription.LastError;
                run.ClearProgress();
            }
            if (subscription.Suspended)
            {
                if (alarmed != generation)
                {
                    alarmed = generation;
                    LogSuspended(run.Name, subscription.SuspendedAt, subscription.Position, state.RetainedEvents);
                }
                await WaitAsync(run, wake, IdleWait).ConfigureAwait(false);
                continue;
            }
            if (batch.Events.Count == 0)
            {
                if (batch.ScannedTo > position)
                {
                    position = batch.ScannedTo; // events that do not match move the position too
                    run.SetProgress(new(run.Name, generation, position, attempts, lastError, stuck));
                    continue;
                }
                await Task.WhenAny(newEvents, wake, Task.Delay(IdleWait, time, run.Token)).ConfigureAwait(false);
                continue;
            }

            var attempt = attempts + 1;
            var error = await PostAsync(subscription.Spec, batch.Events, attempt, run.Token).ConfigureAwait(false);
            if (error is null)
            {
                position = batch.ScannedTo; // every matching event up to it was in the batch
                attempts = 0;
                lastError = "";
                stuck = false;
                NodeTelemetry.SubscriptionEvents.Add(batch.Events.Count);
                RecordDeliveryDelays(batch.Events);
                run.SetProgress(new(run.Name, generation, position, attempts, lastError, stuck));
                continue;
            }
            attempts = attempt;
            lastError = Clip(error);
            if (!stuck && attempts >= subscription.Spec.MaxAttempts)
            {
                stuck = true;
                LogStuck(run.Name, attempts, lastError);
            }
            run.SetProgress(new(run.Name, generation, position, attempts, lastError, stuck));
            await WaitAsync(run, wake, Backoff(attempts, stuck)).ConfigureAwait(false);
        }
    }

    /// <summary>Each acknowledged event's time since this node applied it (see <see cref="NodeTelemetry.SubscriptionDeliveryDelay"/>).</summary>
    private void RecordDeliveryDelays(List<MallEvent> events)
    {
        if (!NodeTelemetry.SubscriptionDeliveryDelay.Enabled) return;
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var e in events)
        {
            if (state.EventApplyTimes.AppliedAt(e.Sequence) is { } appliedAt)
            {
                NodeTelemetry.SubscriptionDeliveryDelay.Record(System.Diagnostics.Stopwatch.GetElapsedTime(appliedAt, now).TotalSeconds);
            }
        }
    }

    /// <summary>The wait after failed attempt <paramref name="attempts"/>: doubling from the first, capped; a stuck subscription waits the cap.</summary>
    public TimeSpan Backoff(int attempts, bool stuck)
    {
        var cap = settings.Cluster.SubscriptionRetryMaxMs;
        var ms = stuck ? cap : Math.Min(settings.Cluster.SubscriptionRetryInitialMs * Math.Pow(2, Math.Min(attempts - 1, 30)), cap);
        return TimeSpan.FromMilliseconds(ms);
    }

    private async Task WaitAsync(Run run, Task wake, TimeSpan delay) =>
        await Task.WhenAny(Task.Delay(delay, time, run.Token), wake).ConfigureAwait(false);

    /// <summary>POSTs one batch; null when the subscriber answered 2xx, else why not. Throws only when <paramref name="token"/> ends.</summary>
    private async Task<string?> PostAsync(SubscriptionSpec spec, List<MallEvent> events, int attempt, CancellationToken token)
    {
        var started = time.GetTimestamp();
        using var timer = new CancellationTokenSource(TimeSpan.FromMilliseconds(spec.TimeoutMs), time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token, timer.Token);
        string? error;
        try
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(events.Select(Api.Views.Event).ToArray(), BatchJson);
            using var request = new HttpRequestMessage(HttpMethod.Post, spec.Endpoint) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
            request.Headers.Add(Contract.SubscriptionHeaders.Subscription, spec.Name);
            request.Headers.Add(Contract.SubscriptionHeaders.Attempt, attempt.ToString(CultureInfo.InvariantCulture));
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            error = status is >= 200 and < 300 ? null : $"{status} {response.ReasonPhrase}: {await ReadSomeAsync(response, deadline.Token).ConfigureAwait(false)}";
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            error = $"no answer within {spec.TimeoutMs} ms";
        }
        catch (HttpRequestException e)
        {
            error = e.HttpRequestError + ": " + e.Message;
        }
        NodeTelemetry.SubscriptionCallDuration.Record(time.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("outcome", error is null ? "success" : "failure"));
        return error;
    }

    private static async Task<string> ReadSomeAsync(HttpResponseMessage response, CancellationToken token)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            return text.Length > 200 ? text[..200] + "…" : text;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return "(body unreadable)";
        }
    }

    private static string Clip(string text) =>
        text.Length <= MallLimits.MaxSubscriptionErrorLength ? text : text[..(MallLimits.MaxSubscriptionErrorLength - 1)] + "…";

    /// <summary>One subscription being delivered by this leader, and its progress not yet recorded.</summary>
    private sealed class Run(string name, CancellationTokenSource cancellation) : LeaderRun(name, cancellation)
    {
        private readonly Lock _lock = new();
        private SubscriptionProgress? _progress;

        public string Name => Key;

        public void SetProgress(SubscriptionProgress progress)
        {
            lock (_lock) _progress = progress;
        }

        public void ClearProgress()
        {
            lock (_lock) _progress = null;
        }

        public SubscriptionProgress? TakeProgress()
        {
            lock (_lock)
            {
                var taken = _progress;
                _progress = null;
                return taken;
            }
        }

        /// <summary>Puts back progress that was not recorded, unless newer progress replaced it meanwhile.</summary>
        public void ReturnProgress(SubscriptionProgress progress)
        {
            lock (_lock) _progress ??= progress;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "leader of term {Term}: delivering {Count} subscriptions from their recorded positions")]
    private partial void LogResuming(int count, long term);

    [LoggerMessage(Level = LogLevel.Warning, Message = "subscription scan failed: {Reason}")]
    private partial void LogScanFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "subscription {Name}: delivery loop failed, the next scan starts it again: {Reason}")]
    private partial void LogRunFailed(string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "subscription progress not recorded, kept for the next round: {Reason}")]
    private partial void LogRecordFailed(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "subscription progress rejected: {Code}: {Detail}")]
    private partial void LogRecordRejected(string code, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "subscription {Name} is stuck after {Attempts} failed deliveries (still retried): {Error}")]
    private partial void LogStuck(string name, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "ALARM subscription {Name} is suspended: event {SuspendedAt} was trimmed from the outbox (it keeps {Retained} events) "
        + "before the subscriber acknowledged it (position {Position}); nothing is delivered until an operator resumes it from a position or deletes it")]
    private partial void LogSuspended(string name, long suspendedAt, long position, int retained);
}
