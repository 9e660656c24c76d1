using System.Diagnostics;
using System.Text.Json;
using RaftMall.Client;
using RaftMall.Harness;

namespace RaftMall.Verify;

/// <summary>The overall verdict: valid only when every checker says so.</summary>
public enum Verdict
{
    Valid,
    Invalid,
    Unknown,
}

/// <summary>Everything a run found.</summary>
public sealed record VerifyReport(
    Verdict Verdict, int Seed, double DurationSeconds, IReadOnlyList<string> Nemeses, string? SkippedNemesis, int Operations,
    IReadOnlyDictionary<string, int> OperationsByOutcome, int Faults, IReadOnlyList<FaultEvent> Timeline,
    int KeysChecked, IReadOnlyList<string> NonLinearizableKeys, IReadOnlyList<string> UnknownKeys, IReadOnlyList<Operation> SmallestFailingHistory,
    IReadOnlyList<string> ShopViolations, string OutDirectory, IReadOnlyList<WriteGap> LongestWriteGaps)
{
    /// <summary>The longest windows in which no node took the availability probe's write (<see cref="AvailabilityProbe"/>).</summary>
    public IReadOnlyList<WriteGap> LongestProbeGaps { get; init; } = [];

    /// <summary>
    /// The longest windows without an acknowledged write of the workload's clients in which at most one node was
    /// impaired at a time (<see cref="WriteGap.MostNodesImpaired"/>): what a single-node fault costs.
    /// </summary>
    public IReadOnlyList<WriteGap> LongestSingleFaultWriteGaps { get; init; } = [];

    /// <summary>The same for the availability probe's writes.</summary>
    public IReadOnlyList<WriteGap> LongestSingleFaultProbeGaps { get; init; } = [];

    /// <summary>Per subscription: acknowledged messages applied, duplicates absorbed, and any lost or out of order (<see cref="DeliveryChecker"/>).</summary>
    public IReadOnlyList<DeliveryCheck> Deliveries { get; init; } = [];

    /// <summary>Log indexes at which the state checks of two or more nodes (or incarnations) were compared (<see cref="StateCheckCollector"/>).</summary>
    public int StateChecksCompared { get; init; }

    /// <summary>Acknowledged messages not delivered within <see cref="VerifyRunner.DeliveryPatience"/> after healing, and other delivery findings.</summary>
    public IReadOnlyList<string> DeliveryViolations { get; init; } = [];
}

/// <summary>
/// A verify run: its own cluster (in network namespaces when partitions are wanted and possible), the workload from
/// concurrent clients, the nemesis, healing and settling, final reads, the checkers and the report.
/// </summary>
public sealed class VerifyRunner(VerifyOptions options, Action<string> log)
{
    /// <summary>How long after healing and settling every acknowledged message has to reach its subscriber.</summary>
    public static readonly TimeSpan DeliveryPatience = TimeSpan.FromSeconds(60);

    public async Task<VerifyReport> RunAsync(CancellationToken token)
    {
        Directory.CreateDirectory(options.OutDirectory);
        var nodeIds = Enumerable.Range(1, options.Nodes).Select(i => $"n{i}").ToList();
        string? skipped = null;
        Network? network = null;
        if (options.Nemeses.Contains(Nemeses.Partition))
        {
            skipped = Network.Unavailable();
            if (skipped is null) network = Network.Create(nodeIds);
            else log($"partition nemesis skipped: {skipped}; the other nemeses still run");
        }
        try
        {
            var addresses = nodeIds.Select((id, i) => (id, Uri: new Uri(network is null ? $"http://127.0.0.1:{options.BasePort + i}" : $"http://{Network.Address(i)}:{options.BasePort}")))
                .ToDictionary(x => x.id, x => x.Uri);
            var (cluster, adminKey) = WriteClusterFile(addresses);
            var processes = new NodeProcesses(cluster, options.NodeDll)
            {
                NewSession = false,
                RunFromCopy = true,
                NamespaceOf = id => network is null ? null : Network.Namespace(id),
                // Every start, restarts by the nemesis included: a node restarted safe would hide the stale reads.
                // Every node traces what it applies, so that a divergence is located to the entry where it began.
                Environment = options.UnsafeFollowerReads
                    ? new Dictionary<string, string> { [VerifyOptions.UnsafeFollowerReadsVariable] = "true", [ApplyTraces.Variable] = "true" }
                    : new Dictionary<string, string> { [ApplyTraces.Variable] = "true" },
            };
            try
            {
                foreach (var id in nodeIds) processes.Start(id);
                var probe = new Probe(addresses, adminKey);
                if (await probe.WaitForLeaderAsync(nodeIds, TimeSpan.FromSeconds(30)) is null) throw new InvalidOperationException($"no leader within 30 s; node logs in {Path.Combine(options.OutDirectory, "data")}/<node>/node.log");
                log($"cluster up in {options.OutDirectory} ({(network is null ? "127.0.0.1" : "network namespaces")}); seed {options.Seed}");
                return await RunOnClusterAsync(nodeIds, addresses, adminKey, processes, network, probe, skipped, token);
            }
            finally
            {
                foreach (var id in nodeIds) processes.Kill(id);
            }
        }
        finally
        {
            network?.Dispose();
        }
    }

    private async Task<VerifyReport> RunOnClusterAsync(List<string> nodeIds, Dictionary<string, Uri> addresses, string adminKey, NodeProcesses processes, Network? network,
        Probe probe, string? skipped, CancellationToken token)
    {
        var endpoints = nodeIds.Select(id => addresses[id]).ToList();
        var run = $"r{options.Seed & 0xffff:x4}{DateTime.UtcNow:HHmmss}";
        var initialStock = Enumerable.Range(0, 3).ToDictionary(Workload.Sku, _ => 1_000_000L);
        // The subscriber listens where the nodes reach this machine: the bridge's address when they run in namespaces.
        await using var subscriber = PushSubscriber.Start(network is null ? "127.0.0.1" : Network.HostAddress);
        using (var setup = new RaftMallClient(new RaftMallClientOptions { Endpoints = endpoints, ApiKey = adminKey }))
        {
            foreach (var (sku, count) in initialStock) await setup.SetStockAsync(sku, count, token: token);
            await MessageWorkload.SubscribeAsync(setup, subscriber.Url, token);
        }

        var clock = Stopwatch.StartNew();
        using var history = new HistoryWriter(Path.Combine(options.OutDirectory, "history.jsonl"));
        var nemesis = new Nemesis(options, processes, network, nodeIds, probe, clock);
        log($"workload: {options.Clients} clients for {options.Duration.TotalSeconds:F0} s; nemeses: {string.Join(",", nemesis.Enabled)}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        stop.CancelAfter(options.Duration);
        var workloads = Enumerable.Range(0, options.Clients).Select(p => new Workload(p, options, endpoints, adminKey, history, clock, run)).ToList();
        var publishers = Enumerable.Range(MessageWorkload.FirstProcess, MessageWorkload.Publishers).Select(p => new MessageWorkload(p, options, endpoints, adminKey, history, clock)).ToList();
        using var availability = new AvailabilityProbe(endpoints, adminKey, clock);
        using var stateChecks = new StateCheckCollector(addresses, adminKey);
        using var stopChecks = CancellationTokenSource.CreateLinkedTokenSource(token);
        var checking = stateChecks.RunAsync(stopChecks.Token); // through healing and the final reads
        var probeStart = clock.Elapsed.TotalSeconds;
        var loadEnd = double.NaN; // when the load stopped: windows end there (in-flight operations may finish later)
        using var loadStopped = stop.Token.Register(() => loadEnd = clock.Elapsed.TotalSeconds);
        var probing = availability.RunAsync(stop.Token);
        var chaos = nemesis.RunAsync(stop.Token);
        await Task.WhenAll([.. workloads.Select(w => w.RunAsync(stop.Token)), .. publishers.Select(p => p.RunAsync(stop.Token))]);
        await chaos;
        await probing;
        var probeEnd = double.IsNaN(loadEnd) ? clock.Elapsed.TotalSeconds : loadEnd;
        workloads.ForEach(w => w.Dispose());
        publishers.ForEach(p => p.Dispose());

        await nemesis.HealAllAsync();
        var settled = await probe.WaitForSettledAsync(TimeSpan.FromSeconds(60));
        nemesis.Note(settled ? "settled: one leader, every node applied the commit index" : "did NOT settle within 60 s");
        await Task.Delay(TimeSpan.FromSeconds(Workload.ShortTtlSeconds + 1), token); // let the last short-ttl orders expire

        // Final linearizable reads of every key through every node: a lost write shows up here.
        using var finalReader = new Workload(1_000, options with { UnsafeLocalReads = false }, endpoints, adminKey, history, clock, run);
        for (var k = 0; k < Workload.Keys; k++)
        {
            foreach (var endpoint in endpoints) await finalReader.ReadAsync(Workload.Key(k), endpoint);
        }

        var states = new List<NodeState>();
        var unreadable = new List<string>();
        foreach (var id in nodeIds)
        {
            using var client = new RaftMallClient(new RaftMallClientOptions { Endpoints = [addresses[id]], ApiKey = adminKey, RetryBudget = TimeSpan.FromSeconds(10) });
            try
            {
                var orders = new List<Order>();
                await foreach (var order in client.AllOrdersAsync(ReadConsistency.Linearizable, addresses[id], token)) orders.Add(order);
                var stock = await client.ListStockAsync(ReadConsistency.Linearizable, addresses[id], token);
                var hash = await client.GetStateHashAsync(addresses[id], ReadConsistency.Linearizable, token);
                states.Add(new NodeState(id, orders, stock, hash.Hash));
            }
            catch (RaftMallException e)
            {
                // A node that cannot serve a linearizable read after healing and settling is itself a finding.
                unreadable.Add($"{id} could not serve its final state after healing ({e.Code}: {e.Detail}); see {processes.LogPath(id)}");
            }
        }
        await stopChecks.CancelAsync();
        await checking;
        await stateChecks.CollectAsync(token);
        var divergences = stateChecks.Ledger.Divergences();
        nemesis.Note($"state checks: {stateChecks.Ledger.Compared} log indexes compared across nodes, {divergences.Count} differ");
        var operations = history.Operations;
        var (deliveries, deliveryViolations) = await CheckDeliveryAsync(operations, subscriber, clock, token);
        nemesis.Note($"delivery: {string.Join("; ", deliveries.Select(d => $"{d.Subscription} {d.Applied} applied, {d.Duplicates} duplicates"))}");
        var linearizability = Linearizability.Check(operations, options.CheckerBudget);
        var shop = ShopChecker.Check(operations, states, initialStock, run, clock.Elapsed.Ticks * 100);
        if (!settled) shop.Add("the cluster did not settle within 60 s after healing (a node did not catch up)");
        shop.AddRange(unreadable);
        shop.AddRange(divergences);
        shop.AddRange(CriticalLogLines.Find(Path.Combine(options.OutDirectory, "data")));
        shop.AddRange(ApplyTraces.Differences(Path.Combine(options.OutDirectory, "data")));

        var bad = linearizability.Where(r => r.Verdict == LinearizabilityVerdict.NotLinearizable).ToList();
        var unknown = linearizability.Where(r => r.Verdict == LinearizabilityVerdict.Unknown).ToList();
        var verdict = bad.Count > 0 || shop.Count > 0 || deliveryViolations.Count > 0 ? Verdict.Invalid : unknown.Count > 0 ? Verdict.Unknown : Verdict.Valid;
        var smallest = bad.OrderBy(r => r.Operations).FirstOrDefault() is { } worst
            ? Linearizability.SmallestFailingPrefix(worst.History, TimeSpan.FromSeconds(5))
            : [];
        var workload = operations.Where(o => o.Process < 1_000).ToList(); // the workload's clients, not the final reader
        var impairments = nemesis.Impairments;
        var report = new VerifyReport(
            verdict, options.Seed, Math.Round(clock.Elapsed.TotalSeconds, 1), nemesis.Enabled, skipped, operations.Count,
            operations.GroupBy(o => $"{o.Kind}:{o.Outcome.ToString().ToLowerInvariant()}").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            nemesis.Faults, nemesis.Timeline, linearizability.Count, [.. bad.Select(r => r.Key)], [.. unknown.Select(r => r.Key)], smallest, shop, options.OutDirectory,
            Liveness.LongestWriteGaps(workload, nemesis.Timeline, impairments: impairments, loadEnd: probeEnd))
        {
            LongestProbeGaps = Liveness.LongestGaps(availability.Acknowledged, probeStart, probeEnd, nemesis.Timeline, impairments: impairments),
            LongestSingleFaultWriteGaps = Liveness.LongestWriteGaps(workload, nemesis.Timeline, impairments: impairments, singleFault: true, loadEnd: probeEnd),
            LongestSingleFaultProbeGaps = Liveness.LongestGaps(availability.Acknowledged, probeStart, probeEnd, nemesis.Timeline, impairments: impairments, singleFault: true),
            Deliveries = deliveries,
            DeliveryViolations = deliveryViolations,
            StateChecksCompared = stateChecks.Ledger.Compared,
        };
        await File.WriteAllTextAsync(Path.Combine(options.OutDirectory, "report.json"), JsonSerializer.Serialize(report, VerifyJsonContext.Default.VerifyReport), token);
        return report;
    }

    /// <summary>
    /// Waits (up to <see cref="DeliveryPatience"/>) until each subscription received every acknowledged message, then
    /// checks what it received: nothing acknowledged lost, outbox order per subscription, repeats counted.
    /// </summary>
    private static async Task<(List<DeliveryCheck> Checks, List<string> Violations)> CheckDeliveryAsync(IReadOnlyList<Operation> operations, PushSubscriber subscriber,
        Stopwatch clock, CancellationToken token)
    {
        var acknowledged = operations.Where(o => o.Kind == Kinds.Publish && o.Outcome == Outcome.Ok).Select(o => o.Sequence!.Value).ToHashSet();
        var deadline = clock.Elapsed + DeliveryPatience;
        bool AllReceived(string subscription) => acknowledged.IsSubsetOf(subscriber.Received(subscription).Select(e => e.Sequence));
        while (!MessageWorkload.Subscriptions.All(s => AllReceived(s.Name)) && clock.Elapsed < deadline) await Task.Delay(200, token);
        var checks = new List<DeliveryCheck>();
        var violations = new List<string>();
        foreach (var (name, _) in MessageWorkload.Subscriptions)
        {
            var (applied, repeats) = DeliveryChecker.FirstArrivals(subscriber.Received(name).Select(e => e.Sequence));
            var check = DeliveryChecker.Check(name, acknowledged, applied, repeats);
            checks.Add(check);
            violations.AddRange(check.Violations());
        }
        return (checks, violations);
    }

    private (ClusterFile Cluster, string AdminKey) WriteClusterFile(Dictionary<string, Uri> addresses)
    {
        var cluster = new ClusterFile
        {
            DataDirectory = "data",
            ElectionTimeoutLowerMs = options.ElectionTimeoutLowerMs,
            ElectionTimeoutUpperMs = options.ElectionTimeoutUpperMs,
            HeartbeatIntervalMs = options.HeartbeatIntervalMs,
            RaftVoteTimeoutMs = options.RaftVoteTimeoutMs,
            RaftAppendTimeoutMs = options.RaftAppendTimeoutMs,
            SnapshotIntervalEntries = options.SnapshotIntervalEntries,
            StateCheckIntervalMs = (int)StateCheckCollector.Interval.TotalMilliseconds, // a check per poll: the first differing index is close to where it began
            Nodes = [.. addresses.Select(a => new ClusterNode { Id = a.Key, Address = a.Value.GetLeftPart(UriPartial.Authority) })],
        };
        cluster.Save(Path.Combine(options.OutDirectory, "cluster.yml"));
        // This run's own credentials (credentials.env, 0600, next to its data); every client of the run (workload, probe,
        // checker) uses its admin key.
        return (cluster, ClusterCredentials.EnsureFor(cluster).KeyFor(ClientRole.Admin)!);
    }
}
