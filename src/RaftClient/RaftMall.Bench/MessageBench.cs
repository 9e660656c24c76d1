using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RaftMall.Client;
using RaftMall.Harness;
using Spectre.Console;

namespace RaftMall.Bench;

/// <summary>
/// The delivery bench: clients place orders with their message on a scratch 3-node cluster while push subscriptions
/// deliver the messages to HTTP subscribers in this process (one subscription per subscriber, each receiving every
/// message); measures messages delivered per second and the time from commit to delivery, for each subscriber count.
/// Bounded: a fixed time per run, and at most <see cref="DrainPatience"/> for delivery to finish after it.
/// </summary>
public static class MessageBench
{
    public const int MaxClients = 256;
    public const int MaxConsumers = 16;
    private const int SkuCount = 16;
    private static readonly TimeSpan DrainPatience = TimeSpan.FromSeconds(60);

    /// <param name="ConsumerCounts">Subscribers per run, one run each.</param>
    /// <param name="BatchSize">Each subscription's batch size.</param>
    /// <param name="Prime">An unmeasured run (one subscriber) before the first: fresh nodes spend their first seconds compiling their hot paths.</param>
    public sealed record Options(int Clients, int[] ConsumerCounts, TimeSpan Duration, int BatchSize, TimeSpan Prime);

    /// <param name="OrdersPerSecond">Orders with their message acknowledged per second of load: the write rate.</param>
    /// <param name="DeliveredPerSecondPerConsumer">Distinct messages one subscriber received per second, from the start of the load until its last message arrived.</param>
    /// <param name="DeliveredPerSecond">The same over all subscribers together.</param>
    /// <param name="DrainMs">From the end of the load until every subscriber had every acknowledged message.</param>
    /// <param name="CommitToDeliveryMsP50">From the entry's time (stamped by the leader as it proposed it) to the first arrival at a subscriber, over every message and subscriber.</param>
    /// <param name="AckToDeliveryMsP50">From the client's acknowledgement of the order to the message's first arrival at a subscriber (negative when it arrived first). The commit comes before the acknowledgement and after the proposal, so commit → delivery lies between this and <paramref name="CommitToDeliveryMsP50"/>.</param>
    /// <param name="LeaderDelayMsP99">From the leader applying an event (right after its commit) to the subscriber acknowledging it, p99 over every event and subscriber, from the leader's histogram <c>raftmall.subscription.delivery.delay</c> (interpolated inside its bucket); null when the nodes export no metrics.</param>
    /// <param name="LeaderDelayWithin50Ms">The share of those delays at or below 50 ms.</param>
    /// <param name="CallMsP99">The delivery calls themselves (POST to the subscriber's answer), from the leader's histogram <c>raftmall.subscription.call.duration</c>: the rest of a delay is waiting for the call before it (one call per subscription at a time) and for the loop to wake.</param>
    /// <param name="Repeats">Messages received again (at-least-once delivery; none expected without faults).</param>
    /// <param name="Undelivered">Acknowledged messages some subscriber never received within the drain patience.</param>
    public sealed record Run(int Consumers, int Clients, double Seconds, long OrdersAcknowledged, double OrdersPerSecond, long Errors,
        double DeliveredPerSecondPerConsumer, double DeliveredPerSecond, double DrainMs,
        double CommitToDeliveryMsP50, double CommitToDeliveryMsP99, double CommitToDeliveryMsMax, long Repeats, long Undelivered,
        double AckToDeliveryMsP50, double AckToDeliveryMsP99, double? LeaderDelayMsP50 = null, double? LeaderDelayMsP99 = null, double? LeaderDelayWithin50Ms = null, long LeaderDelayCount = 0,
        double? CallMsP50 = null, double? CallMsP99 = null, long Calls = 0);

    /// <summary>The nodes' histogram of commit (apply on the leader) → acknowledgement by the subscriber.</summary>
    public const string DelayHistogram = "raftmall_subscription_delivery_delay_seconds";

    /// <summary>The nodes' histogram of delivery calls (POST to answer).</summary>
    public const string CallHistogram = "raftmall_subscription_call_duration_seconds";

    /// <param name="LoadAverageBefore">The machine's 1-minute load average before and after: other processes compete for the same cores.</param>
    public sealed record Report(Run[] Runs, int BatchSize, int MachineCores, double? LoadAverageBefore, double? LoadAverageAfter)
    {
        public bool Complete => Runs.All(r => r.Undelivered == 0);
    }

    /// <summary>Starts a scratch cluster with the settings of <paramref name="settingsFrom"/> (<paramref name="nodeDll"/>) and runs the load once per subscriber count.</summary>
    public static async Task<Report> RunAsync(ClusterFile settingsFrom, string nodeDll, Options options, Action<string> note, Action<string> progress, CancellationToken token)
    {
        var loadBefore = TxnBench.LoadAverage();
        await using var cluster = ScratchRaftMallCluster.Create(settingsFrom, nodeDll);
        note($"starting a scratch cluster in {cluster.Directory} ...");
        await cluster.StartAsync(token);
        await using var subscriber = PushSubscriber.Start();
        using var client = new RaftMallClient(new RaftMallClientOptions { Endpoints = cluster.ClientUrls, ApiKey = cluster.AdminKey });
        var skus = Enumerable.Range(0, SkuCount).Select(i => $"bench-msg-{i}").ToArray();
        foreach (var sku in skus) await client.SetStockAsync(sku, 1_000_000_000, token: token);
        note($"nodes {string.Join(", ", cluster.ClientUrls.Select(u => u.Authority))}; subscribers at {subscriber.BaseUrl}");
        if (options.Prime > TimeSpan.Zero)
        {
            note($"priming with {options.Prime.TotalSeconds:0} s of unmeasured orders and deliveries ...");
            await RunOnceAsync(cluster, client, subscriber, skus, 1, options with { Duration = options.Prime }, progress, token);
        }
        var runs = new List<Run>();
        foreach (var consumers in options.ConsumerCounts)
        {
            runs.Add(await RunOnceAsync(cluster, client, subscriber, skus, consumers, options, progress, token));
        }
        return new Report([.. runs], options.BatchSize, Environment.ProcessorCount, loadBefore, TxnBench.LoadAverage());
    }

    private static async Task<Run> RunOnceAsync(ScratchRaftMallCluster cluster, RaftMallClient client, PushSubscriber subscriber, string[] skus, int consumers, Options options, Action<string> progress, CancellationToken token)
    {
        using var scraper = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        scraper.DefaultRequestHeaders.Authorization = new("Bearer", cluster.AdminKey);
        var topic = $"bench-{consumers}-{DateTime.UtcNow:HHmmssfff}";
        var names = Enumerable.Range(1, consumers).Select(i => $"{topic}-s{i}").ToArray();
        foreach (var name in names)
        {
            await client.CreateSubscriptionAsync(new SubscriptionRequest(name, subscriber.Url(name), [topic], null, 5_000, options.BatchSize, 10, null), token: token);
        }
        var metricsBefore = await ScrapeAllAsync(scraper, cluster, token);
        var acknowledged = new ConcurrentDictionary<long, DateTimeOffset>(); // sequence → when the client had the answer
        long errors = 0;
        var clock = Stopwatch.StartNew();
        async Task ClientAsync(int c)
        {
            var random = new Random(c);
            for (var n = 0; clock.Elapsed < options.Duration && !token.IsCancellationRequested; n++)
            {
                var sku = skus[random.Next(skus.Length)];
                using var payload = JsonDocument.Parse($$"""{"sku":"{{sku}}","quantity":1}""");
                try
                {
                    var placed = await client.PlaceOrderWithMessageAsync($"bench-{c}", [new OrderLine(sku, 1)], new MessageRequest(topic, null, payload.RootElement.Clone()), token: token);
                    acknowledged[placed.Message.Sequence] = DateTimeOffset.UtcNow;
                }
                catch (RaftMallException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }
        var load = Task.WhenAll(Enumerable.Range(0, options.Clients).Select(ClientAsync));
        while (!load.IsCompleted)
        {
            await Task.WhenAny(load, Task.Delay(500, token));
            progress($"{consumers} subscriber(s): {clock.Elapsed.TotalSeconds:F0} s, {acknowledged.Count} orders, {names.Sum(subscriber.ReceivedCount)} received");
        }
        await load;
        var loadSeconds = clock.Elapsed.TotalSeconds;
        var expected = acknowledged.Keys.ToHashSet();
        while (names.Any(n => subscriber.ReceivedCount(n) < expected.Count || !expected.IsSubsetOf(subscriber.Received(n).Select(e => e.Sequence)))
            && clock.Elapsed.TotalSeconds - loadSeconds < DrainPatience.TotalSeconds)
        {
            await Task.Delay(20, token);
        }
        var drainMs = (clock.Elapsed.TotalSeconds - loadSeconds) * 1_000;
        var metricsAfter = await ScrapeAllAsync(scraper, cluster, token);
        var delays = HistogramDelta.Between(metricsBefore, metricsAfter, DelayHistogram);
        var calls = HistogramDelta.Between(metricsBefore, metricsAfter, CallHistogram);
        foreach (var name in names) await client.DeleteSubscriptionAsync(name, token: token);

        var latenciesMs = new List<double>();
        var afterAckMs = new List<double>();
        double deliveredPerSecond = 0;
        long repeats = 0, undelivered = 0;
        var loadStart = DateTimeOffset.UtcNow - clock.Elapsed;
        foreach (var name in names)
        {
            var seen = new HashSet<long>();
            var last = loadStart;
            foreach (var e in subscriber.Received(name))
            {
                if (!seen.Add(e.Sequence))
                {
                    repeats++;
                    continue;
                }
                latenciesMs.Add((e.ReceivedAt - e.At).TotalMilliseconds);
                if (acknowledged.TryGetValue(e.Sequence, out var ackedAt)) afterAckMs.Add((e.ReceivedAt - ackedAt).TotalMilliseconds);
                if (e.ReceivedAt > last) last = e.ReceivedAt;
            }
            undelivered += expected.Count(s => !seen.Contains(s));
            deliveredPerSecond += seen.Count / Math.Max(0.001, (last - loadStart).TotalSeconds);
        }
        latenciesMs.Sort();
        afterAckMs.Sort();
        return new Run(consumers, options.Clients, Math.Round(loadSeconds, 1), expected.Count, expected.Count / loadSeconds, errors,
            deliveredPerSecond / consumers, deliveredPerSecond, Math.Round(drainMs), Percentile(latenciesMs, 0.50), Percentile(latenciesMs, 0.99),
            latenciesMs.Count == 0 ? 0 : latenciesMs[^1], repeats, undelivered, Percentile(afterAckMs, 0.50), Percentile(afterAckMs, 0.99),
            delays.Quantile(0.50) * 1_000, delays.Quantile(0.99) * 1_000, delays.ShareAtMost(0.05), (long)delays.Count,
            calls.Quantile(0.50) * 1_000, calls.Quantile(0.99) * 1_000, (long)calls.Count);
    }

    /// <summary>Every node's /metrics page (a node that does not answer, or exports no metrics, is left out).</summary>
    private static async Task<List<MetricsPage>> ScrapeAllAsync(HttpClient http, ScratchRaftMallCluster cluster, CancellationToken token)
    {
        var pages = new List<MetricsPage>();
        foreach (var node in cluster.ClientUrls)
        {
            if (await MetricsPage.ScrapeAsync(http, new HttpRequestMessage(HttpMethod.Get, new Uri(node, "/metrics")), token) is { } page) pages.Add(page);
        }
        return pages;
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    public static void Render(Report report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"orders with their message → push subscribers (batches of {report.BatchSize})");
        table.AddColumns("subs", "clients", "orders/s", "deliv/s each", "deliv/s all", "drain ms", "p50 ms", "p99 ms", "max ms", "repeats");
        foreach (var r in report.Runs)
        {
            table.AddRow(I(r.Consumers), I(r.Clients), F0(r.OrdersPerSecond), F0(r.DeliveredPerSecondPerConsumer), F0(r.DeliveredPerSecond), F0(r.DrainMs),
                F1(r.CommitToDeliveryMsP50), F1(r.CommitToDeliveryMsP99), F1(r.CommitToDeliveryMsMax), I(r.Repeats));
        }
        AnsiConsole.Write(table);
        foreach (var r in report.Runs.Where(r => r.Errors > 0)) AnsiConsole.MarkupLine($"  {r.Consumers} subscriber(s): [yellow]{r.Errors}[/] orders given up by the client (outcome unknown)");
        AnsiConsole.MarkupLine("  subs: push subscribers, one subscription each (every one gets every message); deliv/s: distinct messages received per second from the start of the load to the last arrival");
        AnsiConsole.MarkupLine("  p50/p99/max: commit → delivery, from the event's time, stamped by the leader when it proposed the entry, to its first arrival at a subscriber (same machine clock)");
        foreach (var r in report.Runs)
        {
            if (r.LeaderDelayMsP99 is { } p99)
            {
                AnsiConsole.MarkupLine($"  {r.Consumers} subscriber(s): [bold]from the leader applying the event (its commit) to the subscriber's acknowledgement[/], by the leader's histogram over {I(r.LeaderDelayCount)} deliveries: p50 {F1(r.LeaderDelayMsP50 ?? 0)} ms, p99 {F1(p99)} ms, {(r.LeaderDelayWithin50Ms ?? 0) * 100:0.00} % within 50 ms; its {I(r.Calls)} delivery calls took p50 {F1(r.CallMsP50 ?? 0)} ms, p99 {F1(r.CallMsP99 ?? 0)} ms");
            }
            AnsiConsole.MarkupLine($"  {r.Consumers} subscriber(s): from the client's acknowledgement (after the commit) to the first arrival p50 {F1(r.AckToDeliveryMsP50)} ms, p99 {F1(r.AckToDeliveryMsP99)} ms: commit → delivery lies between these and the columns above");
        }
        AnsiConsole.MarkupLine($"  machine: {report.MachineCores} cores; 1-minute load average {report.LoadAverageBefore} before, {report.LoadAverageAfter} after (other processes compete too)");
        AnsiConsole.MarkupLine(report.Complete
            ? "[green]every acknowledged message reached every subscriber[/]"
            : $"[red]FAILED: {report.Runs.Sum(r => r.Undelivered)} acknowledged deliveries missing {DrainPatience.TotalSeconds:0} s after the load[/]");
    }

    private static string I(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string F0(double x) => x.ToString("0", CultureInfo.InvariantCulture);

    private static string F1(double x) => x.ToString("0.0", CultureInfo.InvariantCulture);
}
