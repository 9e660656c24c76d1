using RaftMall.Verify;

namespace RaftMall.Verify.Tests;

/// <summary>raftmall verify end to end: a healthy cluster under faults is valid; a deliberately unsafe one is caught.</summary>
public class VerifyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_short_verify_under_kills_pauses_restarts_partitions_and_full_crashes_is_valid()
    {
        await using var files = new TestCluster(output: output); // for its temporary directory
        // A snapshot every 500 entries: restarted nodes come back with snapshots, often ahead of the leader's view of them,
        // and must still catch up (CommittedPrefixMatch) for the run to settle.
        var result = await CliProcess.RunAsync(files.ConfigPath, "verify", "--duration", "30s", "--nemesis", "all", "--seed", "20261125", "--clients", "6",
            "--snapshot-interval", "500", "--out", Path.Combine(files.Root, "verify"));
        output.WriteLine(result.All);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("verdict: valid", result.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(files.Root, "verify", "history.jsonl")));
        var history = HistoryWriter.Load(Path.Combine(files.Root, "verify", "history.jsonl"));
        Assert.Contains(history, o => o.Kind == Kinds.Write && o.Outcome == Outcome.Ok);
        Assert.Contains(history, o => o.Kind == Kinds.Place && o.Outcome == Outcome.Ok);
        // The availability probe ran beside the workload and its windows are in the report.
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(files.Root, "verify", "report.json")));
        Assert.NotEmpty(report.RootElement.GetProperty("longestProbeGaps").EnumerateArray());
        // The replicas' state checks were collected while the run went on, and compared (a difference would be a violation).
        Assert.True(report.RootElement.GetProperty("stateChecksCompared").GetInt32() > 0, report.RootElement.ToString());
        // Delivery was checked: messages were acknowledged, and each subscription applied them all, in order.
        Assert.Contains(history, o => o.Kind == Kinds.Publish && o.Outcome == Outcome.Ok && o.Sequence is not null);
        var deliveries = report.RootElement.GetProperty("deliveries").EnumerateArray().ToList();
        Assert.Equal(MessageWorkload.Subscriptions.Length, deliveries.Count);
        Assert.All(deliveries, d => Assert.True(d.GetProperty("acknowledged").GetInt32() > 0 && d.GetProperty("lost").GetArrayLength() == 0, d.ToString()));
    }

    [Fact]
    public async Task A_verify_that_replaces_members_while_clients_write_is_valid()
    {
        await using var files = new TestCluster(output: output); // for its temporary directory
        var result = await CliProcess.RunAsync(files.ConfigPath, "verify", "--duration", "25s", "--nemesis", "membership", "--seed", "2812", "--clients", "6",
            "--snapshot-interval", "500", "--out", Path.Combine(files.Root, "verify"));
        output.WriteLine(result.All);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("verdict: valid", result.Output, StringComparison.Ordinal);
        // The faults happened: a follower was removed, emptied and added back as a new member, at least once.
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(files.Root, "verify", "report.json")));
        var timeline = report.RootElement.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("what").GetString()!).ToList();
        Assert.Contains(timeline, what => what.Contains("added back as a new member", StringComparison.Ordinal));
        Assert.Contains(timeline, what => what.StartsWith("membership: removed", StringComparison.Ordinal));
        Assert.NotEmpty(Directory.GetDirectories(Path.Combine(files.Root, "verify", "data"), "*.replaced-*"));
    }

    [NamespacesFact]
    public async Task Verify_catches_stale_reads_when_reads_skip_the_read_barrier()
    {
        await using var files = new TestCluster(output: output);
        var result = await CliProcess.RunAsync(files.ConfigPath, "verify", "--duration", "15s", "--nemesis", "partition", "--seed", "5", "--unsafe-local-reads",
            "--out", Path.Combine(files.Root, "verify"));
        output.WriteLine(result.All);
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("verdict: invalid", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"checked, [1-9][0-9]* not linearizable", result.Output);
    }

    // Five nodes, so that half the partitions cut the leader off with one follower while the other three elect and
    // commit; reads go to random nodes, the follower on the old leader's side included.
    private static readonly string[] FiveNodePartitions =
        ["verify", "--nodes", "5", "--nemesis", "partition", "--duration", "30s", "--seed", "26"];

    [NamespacesFact]
    public async Task Follower_reads_stay_linearizable_when_the_leader_is_cut_off_with_one_follower()
    {
        await using var files = new TestCluster(output: output);
        var result = await CliProcess.RunAsync(files.ConfigPath, [.. FiveNodePartitions, "--out", Path.Combine(files.Root, "verify")]);
        output.WriteLine(result.All);
        AssertLeaderWasCutOffWithAFollower(files.Root);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("verdict: valid", result.Output, StringComparison.Ordinal);
    }

    // From the report rather than the console, which wraps long lines.
    private static void AssertLeaderWasCutOffWithAFollower(string root) =>
        Assert.Matches(@"partition: n\d \(leader\),n\d \|", File.ReadAllText(Path.Combine(root, "verify", "report.json")));
}
