using System.Globalization;
using RaftMall.Client;
using RaftMall.Harness;
using Spectre.Console;

namespace RaftMall.Bench;

/// <summary>
/// The transaction bench: TCC transactions per second with two HTTP participants (two sample participant processes) on
/// a scratch 3-node cluster, and the same try+confirm calls made directly without RaftMall, to show what the coordinator
/// adds. Bounded: a fixed time per run, a few runs.
/// </summary>
public static class TxnBench
{
    private const int Accounts = 64;
    private const long PointsPerAccount = 1_000_000_000;
    public const int MaxClients = 1_024;

    /// <param name="LoadAverageBefore">The machine's 1-minute load average before and after: other processes compete for the same cores.</param>
    /// <param name="PhaseOneMsP50">Median time from begin to decision as the leader stamped them (begin commit + try calls), per coordinated run.</param>
    public sealed record Report(TxnRunResult[] Runs, Dictionary<int, double> PhaseOneMsP50, long TransactionsChecked, bool ExactlyOnce, string? Problem, int MachineCores, double? LoadAverageBefore, double? LoadAverageAfter);

    /// <param name="Wait">finished (every branch acknowledged, comparable with direct calls) or decided.</param>
    /// <param name="Direct">Also run the same calls directly, without RaftMall.</param>
    public sealed record Options(int[] ClientCounts, TimeSpan Duration, TimeSpan Warmup, TimeSpan Prime, string Wait, bool Direct);

    /// <summary>
    /// Starts a scratch cluster with the settings of <paramref name="settingsFrom"/> (<paramref name="nodeDll"/>) and two
    /// sample participants (<paramref name="pointsDll"/>), runs the load and checks exactly-once; <paramref name="note"/>
    /// takes plain lines, <paramref name="progress"/> the running figures.
    /// </summary>
    public static async Task<Report> RunAsync(ClusterFile settingsFrom, string nodeDll, string pointsDll, Options options, Action<string> note, Action<string> progress, CancellationToken token)
    {
        var (clientCounts, duration, warmup, prime, wait, direct) = options;
        var loadBefore = LoadAverage();
        await using var cluster = ScratchRaftMallCluster.Create(settingsFrom, nodeDll);
        note($"starting a scratch cluster in {cluster.Directory} ...");
        await cluster.StartAsync(token);
        await using var a = await PointsParticipant.StartAsync(pointsDll, "points-a", Path.Combine(cluster.Directory, "points-a"), token);
        await using var b = await PointsParticipant.StartAsync(pointsDll, "points-b", Path.Combine(cluster.Directory, "points-b"), token);
        PointsParticipant[] participants = [a, b];
        foreach (var participant in participants)
        {
            for (var i = 0; i < Accounts; i++) await participant.SetAccountAsync($"acct-{i}", PointsPerAccount, token);
        }
        using var client = new RaftMallClient(new RaftMallClientOptions { Endpoints = cluster.ClientUrls, ApiKey = cluster.AdminKey });
        using var http = LoadGenerator.CreateHttpClient(MaxClients, TimeSpan.FromSeconds(10));
        int[] nodePids = [.. cluster.Cluster.Nodes.Select(n => cluster.Nodes.RunningPid(n.Id)).OfType<int>()];
        int[] participantPids = [.. participants.Select(p => p.ProcessId).OfType<int>()];
        async Task<long?> CommitIndexAsync()
        {
            foreach (var node in cluster.Cluster.Nodes)
            {
                if (await cluster.StatusAsync(node.Uri, token, TimeSpan.FromSeconds(2)) is { Role: "leader" } leader) return leader.CommitIndex;
            }
            return null;
        }
        note($"nodes {string.Join(", ", cluster.Cluster.Nodes.Select(n => n.Uri.Authority))}; participants {a.Url.Authority}, {b.Url.Authority}");

        async Task CoordinatedAsync(string gid, int c, CancellationToken t)
        {
            var branches = participants.Select((p, i) => TransactionBranchRequest.Tcc($"b{i}", p.TryUrl, p.ConfirmUrl, p.CancelUrl, Payload(c))).ToArray();
            var txn = await client.BeginTransactionAsync(new TransactionRequest("tcc", branches, gid, 30_000), wait == "finished" ? TransactionWait.Finished : TransactionWait.Decided, token: t);
            if (txn.Decision != "commit") throw new InvalidOperationException($"decided {txn.Decision ?? "nothing"}: {txn.Reason}");
            if (wait == "finished" && !txn.IsFinished) throw new InvalidOperationException($"not finished: {txn.Status}");
        }

        if (prime > TimeSpan.Zero)
        {
            // Not reported: the transactions are real (and checked for exactly-once at the end), the timings are not.
            note($"priming with {prime.TotalSeconds:0} s of unmeasured transactions ...");
            await TxnLoad.RunAsync("prime", 16, prime, TimeSpan.FromSeconds(1), nodePids, participantPids, CommitIndexAsync, CoordinatedAsync, progress, token);
        }

        var runs = new List<TxnRunResult>();
        var phaseOne = new Dictionary<int, double>();
        foreach (var clients in clientCounts)
        {
            if (direct)
            {
                runs.Add(await TxnLoad.RunAsync("direct", clients, warmup, duration, nodePids, participantPids, CommitIndexAsync, (gid, c, t) =>
                    TxnLoad.DirectTccAsync(http, [.. participants.Select(p => (new Uri(p.TryUrl), new Uri(p.ConfirmUrl), Payload(c)))], gid, t), progress, token));
            }
            runs.Add(await TxnLoad.RunAsync("raftmall", clients, warmup, duration, nodePids, participantPids, CommitIndexAsync, CoordinatedAsync, progress, token));
            if (await PhaseOneMedianMsAsync(client, runs[^1].GidPrefix, token) is { } median) phaseOne[clients] = median;
        }
        var (checkedCount, problem) = await CheckExactlyOnceAsync(client, participants, token);
        return new Report([.. runs], phaseOne, checkedCount, problem is null, problem, Environment.ProcessorCount, loadBefore, LoadAverage());
    }

    /// <summary>The median of decidedAt - beganAt over up to 1,000 committed transactions of one run.</summary>
    private static async Task<double?> PhaseOneMedianMsAsync(RaftMallClient client, string gidPrefix, CancellationToken token)
    {
        var page = await client.ListTransactionsAsync("committed", after: gidPrefix, limit: 1_000, token: token);
        var spans = page.Transactions.Where(t => t.Gid.StartsWith(gidPrefix, StringComparison.Ordinal) && t.DecidedAt is not null)
            .Select(t => (t.DecidedAt!.Value - t.BeganAt).TotalMilliseconds).Order().ToArray();
        return spans.Length == 0 ? null : spans[spans.Length / 2];
    }

    /// <summary>The machine's 1-minute load average (Linux), for a bench's report.</summary>
    internal static double? LoadAverage() =>
        File.Exists("/proc/loadavg") && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : null;

    private static System.Text.Json.JsonElement Payload(int client) => new PointsPayload($"acct-{client % Accounts}", 1).ToJson();

    /// <summary>After the load: every transaction finishes, and each participant applied each confirm/cancel at most once and none is left frozen.</summary>
    private static async Task<(long Checked, string? Problem)> CheckExactlyOnceAsync(RaftMallClient client, PointsParticipant[] participants, CancellationToken token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var status in new[] { "open", "committing", "aborting" })
        {
            while ((await client.ListTransactionsAsync(status, limit: 1, token: token)).Transactions.Length > 0)
            {
                if (DateTime.UtcNow > deadline) return (0, $"transactions still {status} 60 s after the load");
                await Task.Delay(200, token);
            }
        }
        long count = 0;
        foreach (var participant in participants)
        {
            foreach (var (gid, e) in await participant.GetEffectsAsync(token))
            {
                count++;
                if (e.Confirms > 1 || e.Cancels > 1 || e.Tries > 1 || (e.Confirms == 1 && e.Cancels == 1)) return (count, $"{participant.Name}: {gid} has effects {e}");
                if (e.Tries == 1 && e.Confirms + e.Cancels != 1) return (count, $"{participant.Name}: {gid} tried but neither confirmed nor cancelled");
            }
            for (var i = 0; i < Accounts; i++)
            {
                if ((await participant.GetAccountAsync($"acct-{i}", token)).Frozen != 0) return (count, $"{participant.Name}: acct-{i} has frozen points left");
            }
        }
        return (count, null);
    }

    public static void Render(Report report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("TCC transactions, 2 HTTP participants");
        table.AddColumns("mode", "clients", "txn/s", "p50 ms", "p99 ms", "errors", "entries/txn", "cores n/p/g"); // p90 and max: --json
        foreach (var r in report.Runs)
        {
            table.AddRow(r.Mode, r.Clients.ToString(CultureInfo.InvariantCulture), r.TransactionsPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                F(r.LatencyMsP50), F(r.LatencyMsP99), r.ErrorCount.ToString(CultureInfo.InvariantCulture),
                r.LogEntriesPerTransaction is { } entries ? entries.ToString("0.00", CultureInfo.InvariantCulture) : "-",
                $"{r.NodeCores:0.00}/{r.ParticipantCores:0.00}/{r.GeneratorCores:0.00}");
        }
        AnsiConsole.Write(table);
        foreach (var r in report.Runs) foreach (var (error, count) in r.Errors) AnsiConsole.MarkupLine($"  {r.Mode} ×{r.Clients}: [red]{count}[/] × {Markup.Escape(error)}");
        foreach (var group in report.Runs.GroupBy(r => r.Clients))
        {
            if (group.FirstOrDefault(r => r.Mode == "direct") is not { } d || group.FirstOrDefault(r => r.Mode == "raftmall") is not { } c) continue;
            AnsiConsole.MarkupLine($"  {group.Key} clients: the coordinator adds {c.LatencyMsP50 - d.LatencyMsP50:0.00} ms at p50, {c.LatencyMsP99 - d.LatencyMsP99:0.00} ms at p99; " +
                $"throughput {c.TransactionsPerSecond / Math.Max(1, d.TransactionsPerSecond):P0} of direct calls" +
                (report.PhaseOneMsP50.TryGetValue(group.Key, out var phaseOne) ? $"; begin → decision {phaseOne:0} ms at p50 (leader's clock)" : ""));
        }
        AnsiConsole.MarkupLine($"  entries/txn: Raft log entries per transaction; cores n/p/g: CPU used by the 3 nodes / 2 participants / this load generator");
        AnsiConsole.MarkupLine($"  machine: {report.MachineCores} cores; 1-minute load average {report.LoadAverageBefore} before, {report.LoadAverageAfter} after (other processes compete too)");
        AnsiConsole.MarkupLine(report.ExactlyOnce
            ? $"[green]exactly once: {report.TransactionsChecked:N0} participant branches, each confirm/cancel applied at most once, nothing left frozen[/]"
            : $"[red]FAILED: {Markup.Escape(report.Problem ?? "")}[/]");
    }

    private static string F(double ms) => ms.ToString(ms < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
}
