using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RaftMall.Cli.Commands;
using RaftMall.Client;
using RaftMall.Harness;
using RaftMall.Verify;
using Spectre.Console;

namespace RaftMall.Cli.Demos;

/// <summary>
/// raftmall demo messages: the local message table end to end. Orders are placed with their "deduct stock" messages
/// from concurrent clients; two subscriptions push them to the sample stock service (samples/StockConsumer), which
/// applies each once with the dedup helper in its durable ledger; the leader and the service are killed with kill -9
/// during delivery and restarted; the verdict: every acknowledged message applied exactly once, in order per subscription.
/// </summary>
public sealed class MessagesDemo(CliContext ctx, MessagesDemo.Settings settings)
{
    public sealed record Settings(int Clients, TimeSpan Duration, TimeSpan KillLeaderAfter, TimeSpan KillConsumerAfter, TimeSpan DownFor);

    public sealed record TimelineEntry(double AtMs, string What);

    /// <param name="Committed">Messages of the demo's topic in the outbox (acknowledged, and unknown outcomes that committed): each must be applied.</param>
    /// <param name="UnitsDeducted">Units the subscription's ledger deducted; <paramref name="UnitsExpected"/> is the sum over the committed messages.</param>
    public sealed record SubscriptionResult(DeliveryCheck Check, int Committed, long[] CommittedNotApplied, long UnitsDeducted, long UnitsExpected)
    {
        public bool Ok => Check.Ok && CommittedNotApplied.Length == 0 && UnitsDeducted == UnitsExpected;
    }

    public sealed record Report(TimelineEntry[] Timeline, int OrdersAcknowledged, int OutcomeUnknown, string? KilledLeader, SubscriptionResult[] Subscriptions, string? Problem)
    {
        public bool Ok => Problem is null && Subscriptions.Length > 0 && Subscriptions.All(s => s.Ok);

        public void Render()
        {
            AnsiConsole.WriteLine();
            var summary = new Table().Border(TableBorder.Rounded).AddColumns("", "").HideHeaders();
            summary.AddRow("orders with their message", $"{OrdersAcknowledged} acknowledged, {OutcomeUnknown} outcome unknown (delivered if committed)");
            summary.AddRow("killed leader", KilledLeader ?? "-");
            foreach (var s in Subscriptions)
            {
                var c = s.Check;
                var faults = c.Lost.Length + s.CommittedNotApplied.Length + c.OutOfOrder.Length + c.AppliedTwice.Length;
                summary.AddRow(Markup.Escape(c.Subscription), (faults == 0
                        ? $"[green]{c.Applied} of {s.Committed} committed applied once, in order[/]"
                        : $"[red]{c.Lost.Length + s.CommittedNotApplied.Length} lost, {c.OutOfOrder.Length} out of order, {c.AppliedTwice.Length} twice[/] ({c.Applied} of {s.Committed} applied)") +
                    $"; {c.Duplicates} duplicates absorbed; " +
                    (s.UnitsDeducted == s.UnitsExpected ? $"{s.UnitsDeducted} units deducted (as ordered)" : $"[red]{s.UnitsDeducted} units deducted, {s.UnitsExpected} ordered[/]"));
            }
            AnsiConsole.Write(summary);
            if (Problem is not null) AnsiConsole.MarkupLine($"[red]{Markup.Escape(Problem)}[/]");
            foreach (var violation in Subscriptions.SelectMany(s => s.Check.Violations())) AnsiConsole.MarkupLine($"[red]{Markup.Escape(violation)}[/]");
            AnsiConsole.MarkupLine(Ok
                ? "[bold green]verdict: OK — every acknowledged message applied exactly once, in order per subscription[/]"
                : "[bold red]verdict: FAILED — see above[/]");
        }

    }

    private const int SkuCount = 4;
    private const long InitialStock = 10_000_000;
    private static readonly TimeSpan DeliveryPatience = TimeSpan.FromSeconds(60);

    private readonly Stopwatch _clock = new();
    private readonly ConcurrentQueue<TimelineEntry> _timeline = new();
    private readonly ConcurrentDictionary<long, int> _acknowledged = new(); // message sequence -> units
    private readonly Dictionary<long, long> _committed = []; // the topic's messages in the outbox: sequence -> units
    private long _outboxRead;
    private int _unknown;
    private TimeSpan _ordersStartedAt;

    public static Command Build()
    {
        var clients = new Option<int>("--clients") { Description = "Concurrent clients placing orders with their message (1..64)", DefaultValueFactory = _ => 8 };
        var duration = new Option<int>("--duration") { Description = "Seconds of orders in all (3..600)", DefaultValueFactory = _ => 10 };
        var killLeader = new Option<int>("--kill-leader-after") { Description = "Seconds into the orders when the leader is killed (kill -9)", DefaultValueFactory = _ => 3 };
        var killConsumer = new Option<int>("--kill-consumer-after") { Description = "Seconds into the orders when the stock service is killed (kill -9)", DefaultValueFactory = _ => 5 };
        var downFor = new Option<int>("--down-for") { Description = "Seconds each killed process stays down before it is restarted", DefaultValueFactory = _ => 2 };
        var command = new Command("messages", """
            The local message table with a push subscriber: clients place orders with their "deduct stock" message; two
            subscriptions push the messages to the sample stock service (samples/StockConsumer), which applies each once
            with the dedup helper in its durable ledger. The leader and the service are killed with kill -9 during
            delivery and restarted. Verdict: every acknowledged message applied exactly once, in order per subscription
            (exit 4 otherwise); duplicates absorbed are counted. Starts the cluster of the cluster file if it is down.
            Example: raftmall demo messages --clients 16 --duration 20
            """)
        {
            clients, duration, killLeader, killConsumer, downFor,
        };
        command.SetRun(async (ctx, token) =>
        {
            var settings = new Settings(
                Math.Clamp(ctx.Parse.GetValue(clients), 1, 64),
                TimeSpan.FromSeconds(Math.Clamp(ctx.Parse.GetValue(duration), 3, 600)),
                TimeSpan.FromSeconds(Math.Max(1, ctx.Parse.GetValue(killLeader))),
                TimeSpan.FromSeconds(Math.Max(1, ctx.Parse.GetValue(killConsumer))),
                TimeSpan.FromSeconds(Math.Clamp(ctx.Parse.GetValue(downFor), 1, 60)));
            if (settings.KillLeaderAfter >= settings.Duration || settings.KillConsumerAfter >= settings.Duration)
            {
                throw new CliException(ExitCodes.Usage, "--kill-leader-after and --kill-consumer-after must be less than --duration");
            }
            var report = await new MessagesDemo(ctx, settings).RunAsync(token);
            ctx.Output(report, report.Render);
            return report.Ok ? ExitCodes.Ok : ExitCodes.VerdictFailed;
        });
        return command;
    }

    public async Task<Report> RunAsync(CancellationToken token)
    {
        var startedCluster = await FailoverDemo.EnsureClusterAsync(ctx, token);
        var run = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture) + Random.Shared.Next(100, 999);
        var topic = $"stock-{run}";
        (string Name, int BatchSize)[] subscriptions = [($"{run}-warehouse-1", 10), ($"{run}-warehouse-2", 50)];
        var consumerDirectory = Path.Combine(Path.GetDirectoryName(ctx.Cluster.NodeDataDirectory("x"))!, $"consumer-demo-{run}");
        string? killedLeader = null;
        var report = default(Report);
        _clock.Start();
        await using var consumer = await StockConsumerService.StartAsync(Programs.StockConsumerDll(), consumerDirectory, token);
        try
        {
            Note($"stock service at {consumer.Url} (ledger in {consumerDirectory})");
            var skus = Enumerable.Range(1, SkuCount).Select(i => $"msg-{run}-{i}").ToArray();
            foreach (var sku in skus) await ctx.Client.SetStockAsync(sku, InitialStock, token: token);
            foreach (var (name, batchSize) in subscriptions)
            {
                var created = await ctx.Client.CreateSubscriptionAsync(new SubscriptionRequest(name, consumer.DeliveryUrl, [topic], null, 2_000, batchSize, 10, null), token: token);
                _outboxRead = created.Position; // each starts after the newest event: the demo's messages all come later
            }
            Note($"subscriptions {string.Join(", ", subscriptions.Select(s => $"{s.Name} (batches of {s.BatchSize})"))} on topic {topic}");

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            _ordersStartedAt = _clock.Elapsed;
            var orders = Enumerable.Range(0, settings.Clients).Select(i => PlaceOrdersAsync($"shopper-{run}-{i}", i, skus, topic, stop.Token)).ToArray();
            var leaderChaos = KillLeaderAsync(consumer, subscriptions, id => killedLeader = id, stop.Token);
            var consumerChaos = KillConsumerAsync(consumer, subscriptions, stop.Token);
            await Task.WhenAll(orders);
            await Task.WhenAll(leaderChaos, consumerChaos);
            Note($"orders stopped: {_acknowledged.Count} acknowledged, {_unknown} with an unknown outcome; waiting for delivery to finish");

            var problem = await WaitDeliveredAsync(consumer, subscriptions, topic, token);
            var ledgers = await consumer.LedgerAsync(token);
            var results = subscriptions.Select(s => Judge(s.Name, ledgers.GetValueOrDefault(s.Name))).ToArray();
            Note($"delivery done: {string.Join("; ", results.Select(r => $"{r.Check.Subscription} applied {r.Check.Applied}, {r.Check.Duplicates} duplicates absorbed"))}");
            report = new Report([.. _timeline.OrderBy(t => t.AtMs)], _acknowledged.Count, _unknown, killedLeader, results, problem);
            return report;
        }
        finally
        {
            // The demo's subscriptions go with it: left behind, the leader would retry a stopped service for ever.
            foreach (var (name, _) in subscriptions)
            {
                try
                {
                    await ctx.Client.DeleteSubscriptionAsync(name, token: CancellationToken.None);
                }
                catch (RaftMallException)
                {
                    // never created, or the cluster is gone
                }
            }
            await consumer.DisposeAsync();
            if (report?.Ok == true) Directory.Delete(consumerDirectory, recursive: true); // a failed run keeps the ledger for a look
            if (startedCluster)
            {
                foreach (var node in ctx.Cluster.Nodes) ctx.Local.Stop(node.Id, TimeSpan.FromSeconds(5));
                Note("stopped the cluster this demo started");
            }
        }
    }

    private async Task PlaceOrdersAsync(string user, int client, string[] skus, string topic, CancellationToken stop)
    {
        var random = new Random(client);
        for (var n = 0; !stop.IsCancellationRequested && _clock.Elapsed - _ordersStartedAt < settings.Duration; n++)
        {
            var sku = skus[random.Next(skus.Length)];
            var units = random.Next(1, 4);
            using var payload = JsonDocument.Parse($$"""{"sku":"{{sku}}","quantity":{{units}}}""");
            try
            {
                var placed = await ctx.Client.PlaceOrderWithMessageAsync(user, [new OrderLine(sku, units)], new MessageRequest(topic, $"{user}-{n}", payload.RootElement.Clone()),
                    token: CancellationToken.None);
                _acknowledged[placed.Message.Sequence] = units;
            }
            catch (RaftMallException)
            {
                Interlocked.Increment(ref _unknown); // the client's retry budget ran out: committed or not, nobody knows
            }
        }
    }

    private async Task KillLeaderAsync(StockConsumerService consumer, (string Name, int BatchSize)[] subscriptions, Action<string> killed, CancellationToken stop)
    {
        await Task.Delay(settings.KillLeaderAfter, stop);
        var leader = await FailoverDemo.CurrentLeaderAsync(ctx, stop) ?? throw new CliException(ExitCodes.Unavailable, "no leader to kill");
        ctx.Local.Kill(leader.NodeId);
        killed(leader.NodeId);
        Note($"kill -9 of leader {leader.NodeId} (term {leader.Term}) during delivery: {_acknowledged.Count} messages acknowledged, {await AppliedAsync(consumer, subscriptions)} applied");
        await Task.Delay(settings.DownFor, CancellationToken.None);
        ctx.Local.Start(leader.NodeId);
        Note($"restarted {leader.NodeId}");
    }

    private async Task KillConsumerAsync(StockConsumerService consumer, (string Name, int BatchSize)[] subscriptions, CancellationToken stop)
    {
        await Task.Delay(settings.KillConsumerAfter, stop);
        var applied = await AppliedAsync(consumer, subscriptions);
        consumer.Kill();
        Note($"kill -9 of the stock service during delivery: {_acknowledged.Count} messages acknowledged, {applied} applied");
        await Task.Delay(settings.DownFor, CancellationToken.None);
        await consumer.RestartAsync(CancellationToken.None);
        Note($"restarted the stock service: {await AppliedAsync(consumer, subscriptions)} applied per its ledger after replay");
    }

    /// <summary>The applied counts per subscription, as the service says ("?" while it does not answer).</summary>
    private static async Task<string> AppliedAsync(StockConsumerService consumer, (string Name, int BatchSize)[] subscriptions)
    {
        try
        {
            var ledgers = await consumer.LedgerAsync();
            return string.Join(" / ", subscriptions.Select(s => ledgers.GetValueOrDefault(s.Name)?.Applied.Length ?? 0));
        }
        catch (HttpRequestException)
        {
            return "?";
        }
    }

    /// <summary>
    /// Waits until every subscription's ledger holds every acknowledged message and every message of the topic in the
    /// outbox (an unknown outcome may have committed); the problem when that does not happen within <see cref="DeliveryPatience"/>.
    /// </summary>
    private async Task<string?> WaitDeliveredAsync(StockConsumerService consumer, (string Name, int BatchSize)[] subscriptions, string topic, CancellationToken token)
    {
        var deadline = _clock.Elapsed + DeliveryPatience;
        while (true)
        {
            await ReadCommittedAsync(topic, token);
            var ledgers = await consumer.LedgerAsync(token);
            var expected = _acknowledged.Keys.Union(_committed.Keys).ToList();
            var missing = subscriptions.Sum(s => expected.Except(ledgers.GetValueOrDefault(s.Name)?.Applied ?? []).Count());
            if (missing == 0) return null;
            if (_clock.Elapsed > deadline) return $"{missing} deliveries still missing {DeliveryPatience.TotalSeconds:0} s after the orders stopped";
            await Task.Delay(200, token);
        }
    }

    /// <summary>Reads the outbox on from where it was read last, keeping the messages of the demo's topic.</summary>
    private async Task ReadCommittedAsync(string topic, CancellationToken token)
    {
        while (true)
        {
            var page = await ctx.Client.ReadEventsAsync(_outboxRead, 1_000, token: token);
            foreach (var e in page.Events.Where(e => e.Type == "message" && e.Topic == topic)) _committed[e.Sequence] = e.Payload!.Value.GetProperty("quantity").GetInt64();
            if (page.Events.Length == 0) return;
            _outboxRead = page.Events[^1].Sequence;
            if (_outboxRead >= page.LastSequence) return;
        }
    }

    private SubscriptionResult Judge(string subscription, ConsumerLedger? ledger)
    {
        var committed = _committed;
        ledger ??= new ConsumerLedger([], 0, []);
        var check = DeliveryChecker.Check(subscription, [.. _acknowledged.Keys], ledger.Applied, (int)ledger.Duplicates);
        var applied = ledger.Applied.ToHashSet();
        return new SubscriptionResult(check, committed.Count, [.. committed.Keys.Where(s => !applied.Contains(s)).Order()],
            ledger.Deducted.Values.Sum(), committed.Values.Sum());
    }

    private void Note(string what)
    {
        _timeline.Enqueue(new TimelineEntry(_clock.Elapsed.TotalMilliseconds, what));
        if (!ctx.Json) CliContext.Info($"[grey]{_clock.Elapsed.TotalSeconds,7:F3} s[/] {Markup.Escape(what)}");
    }
}
