using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RaftMall.Node.Consensus;
using RaftMall.Node.Consensus.Raft;

namespace RaftMall.Node.Observability;

/// <summary>
/// Metrics and traces with OpenTelemetry (docs/observability.md): RaftMall's instruments, the consensus library's
/// (<see cref="ConsensusMeters"/>: renamed under <c>dotnext.</c>), ASP.NET Core, HttpClient and the runtime, scraped at /metrics (a reader key) and pushed over
/// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; traces exist only with OTLP (no exporter, no spans, no cost).
/// </summary>
public static class ObservabilityStartup
{
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// ASP.NET Core's meters that describe a node: requests, connections, unhandled exceptions, rate limiting.
    /// OpenTelemetry's <c>AddAspNetCoreInstrumentation()</c> subscribes to thirteen on .NET 10, among them Kestrel's
    /// memory pool (a measurement per buffer rented, thousands per second from Raft traffic), Blazor, SignalR and
    /// Identity, which a node does not use; in a side-by-side run under load the full set cost more CPU per write than
    /// this one in each of three rounds (docs/benchmarks.md). Routing is left out too: its one counter counts match
    /// attempts, a measurement for every request and Raft RPC.
    /// </summary>
    private static readonly string[] AspNetCoreMeters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting",
    ];

    /// <summary>
    /// Instruments of those meters that are not exported: they cost two measurements per request (Raft RPCs included:
    /// a request is counted active before the Raft endpoint can exclude it) and say little the request duration and
    /// the rate limiter's request counter do not. A perf profile under load (bench/metrics-profile.sh) found these and
    /// routing at about a third of the leader's samples in metrics code (docs/benchmarks.md).
    /// </summary>
    private static readonly HashSet<string> DroppedInstruments = new(StringComparer.Ordinal)
    {
        "http.server.active_requests", "aspnetcore.rate_limiting.active_request_leases", "aspnetcore.rate_limiting.request_lease.duration",
    };

    public static void AddObservability(this WebApplicationBuilder builder, NodeSettings settings)
    {
        var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!settings.Cluster.Metrics && !otlp) return;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("raftmall-node", serviceInstanceId: settings.NodeId));
        if (settings.Cluster.Metrics)
        {
            builder.Services.AddHostedService<NodeGauges>();
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter(NodeTelemetry.Name).AddMeter([.. ConsensusMeters.Names]).AddMeter(AspNetCoreMeters).AddRuntimeInstrumentation();
                // HttpClient's metrics cover every Raft RPC (thousands per second under load): with them, kv-put at 64 clients lost
                // ~19 % instead of ~4 % (docs/benchmarks.md). Raft RPCs are in DotNext's response times, forwarding and
                // participant calls in RaftMall's own instruments; metricsHttpClient turns them on where that is wanted.
                if (settings.Cluster.MetricsHttpClient) metrics.AddHttpClientInstrumentation();
                metrics
                    .AddView(instrument => ConsensusMeters.IsConsensusMeter(instrument.Meter.Name)
                        ? ConsensusMeters.ExportName(instrument.Meter.Name, instrument.Name) is { } name ? new MetricStreamConfiguration { Name = name } : MetricStreamConfiguration.Drop
                        : DroppedInstruments.Contains(instrument.Name) ? MetricStreamConfiguration.Drop : null)
                    .AddPrometheusExporter();
            });
        }
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(NodeTelemetry.Name)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                .AddHttpClientInstrumentation());
            telemetry.UseOtlpExporter(); // metrics (when on) and traces, to OTEL_EXPORTER_OTLP_ENDPOINT
        }
    }

    public static void MapObservability(this WebApplication app, NodeSettings settings)
    {
        if (settings.Cluster.Metrics) app.MapPrometheusScrapingEndpoint(MetricsPath);
    }
}

/// <summary>
/// Gauges read at scrape time (term, indexes, apply lag, transactions, idempotency keys) and the leader-change
/// counter, which follows <see cref="IConsensus.NextLeaderChange"/>.
/// </summary>
public sealed class NodeGauges(IConsensus consensus, ReplicatedState state) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var meter = NodeTelemetry.Meter;
        meter.CreateObservableGauge("raftmall.raft.term", () => consensus.Status().Term, "{term}", "The Raft term this node is in");
        meter.CreateObservableGauge("raftmall.raft.leader", () => consensus.IsLeader ? 1 : 0, "{leader}", "1 while this node leads");
        meter.CreateObservableGauge("raftmall.raft.commit_index", () => consensus.Status().CommitIndex, "{entry}", "The last log index this node knows committed");
        meter.CreateObservableGauge("raftmall.raft.applied_index", () => state.LastAppliedIndex, "{entry}", "The last log index applied to this node's state");
        meter.CreateObservableGauge("raftmall.raft.apply_lag", () => Math.Max(0, consensus.Status().CommitIndex - state.LastAppliedIndex), "{entry}",
            "Committed entries not applied here yet");
        meter.CreateObservableGauge("raftmall.snapshot.index", () => consensus.Status().SnapshotIndex, "{entry}", "The log index the newest snapshot reflects");
        meter.CreateObservableGauge("raftmall.idempotency_keys", () => state.Read(s => s.IdempotencyKeyCount), "{key}", "Idempotency keys the state holds");
        meter.CreateObservableGauge("raftmall.transactions", Transactions, "{transaction}", "Transactions by status (finished: committed or aborted, still retained)");
        meter.CreateObservableGauge("raftmall.transactions.stuck_branches", () => state.Read(s => s.TallyTransactions().StuckBranches), "{branch}",
            "Branches of unfinished transactions whose phase 2 keeps failing");
        meter.CreateObservableGauge("raftmall.subscription.lag", SubscriptionLag, "{event}",
            "Events after a push subscription's recorded position (matching or not), by subscription and state");
        meter.CreateObservableGauge("raftmall.subscriptions", Subscriptions, "{subscription}", "Push subscriptions by state: active, stuck, suspended");

        var leader = consensus.Leader?.Id;
        while (!stoppingToken.IsCancellationRequested)
        {
            await consensus.NextLeaderChange.WaitAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stoppingToken.IsCancellationRequested) return;
            var now = consensus.Leader?.Id;
            if (now == leader) continue;
            leader = now;
            NodeTelemetry.LeaderChanges.Add(1, new KeyValuePair<string, object?>("leader", now ?? "none"));
        }
    }

    private IEnumerable<Measurement<long>> SubscriptionLag()
    {
        var (last, subscriptions) = state.Read(s => (s.LastEventSequence, s.ListSubscriptions()));
        foreach (var subscription in subscriptions)
        {
            yield return new(last - subscription.Position, new KeyValuePair<string, object?>("subscription", subscription.Name),
                new KeyValuePair<string, object?>("state", Api.Views.SubscriptionState(subscription)));
        }
    }

    private IEnumerable<Measurement<int>> Subscriptions()
    {
        var subscriptions = state.Read(s => s.ListSubscriptions());
        foreach (var name in (string[])["active", "stuck", "suspended"])
        {
            yield return new(subscriptions.Count(s => Api.Views.SubscriptionState(s) == name), new KeyValuePair<string, object?>("state", name));
        }
    }

    private IEnumerable<Measurement<int>> Transactions()
    {
        var tally = state.Read(s => s.TallyTransactions());
        yield return new(tally.Open, new KeyValuePair<string, object?>("status", "open"));
        yield return new(tally.Committing, new KeyValuePair<string, object?>("status", "committing"));
        yield return new(tally.Aborting, new KeyValuePair<string, object?>("status", "aborting"));
        yield return new(tally.FinishedRetained, new KeyValuePair<string, object?>("status", "finished"));
    }
}
