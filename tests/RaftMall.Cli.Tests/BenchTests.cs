using System.Text.Json;

namespace RaftMall.Cli.Tests;

/// <summary>raftmall bench against a real cluster: what it reports is what the cluster did.</summary>
public class BenchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Kv_put_and_orders_runs_report_what_the_cluster_committed()
    {
        // One entry per write (group commit off), so the commit index counts the writes the cluster took.
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["MaxWritesPerEntry"] = "1" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var before = (await cluster.StatusAsync(leader))!;

        var put = await CliProcess.RunAsync(cluster.ConfigPath, "bench", "-w", "kv-put", "-n", "4", "-d", "2s", "--warmup", "500ms", "--json");
        Assert.True(put.ExitCode == 0, put.All);
        using (var json = JsonDocument.Parse(put.Output))
        {
            var root = json.RootElement;
            var requests = root.GetProperty("requests").GetInt64();
            Assert.True(requests > 0, put.Output);
            Assert.Empty(root.GetProperty("errors").EnumerateObject());
            var latency = root.GetProperty("latencyMs");
            Assert.InRange(latency.GetProperty("p50").GetDouble(), 0.001, latency.GetProperty("max").GetDouble());
            Assert.True(root.GetProperty("opsPerSecond").GetDouble() > 0);
            var after = (await cluster.StatusAsync(leader))!;
            // Every measured request was one committed entry (warm-up requests come on top).
            Assert.True(after.CommitIndex - before.CommitIndex >= requests, $"commit {before.CommitIndex} -> {after.CommitIndex}, requests {requests}");

            // The breakdown from the nodes' own histograms: the stages fit inside the gateway's time, which fits inside
            // the client's, and the follower flushed before answering (the durability fix stays on the append path).
            var path = root.GetProperty("writePath").EnumerateArray().ToDictionary(e => e.GetProperty("stage").GetString()!, e => e.GetProperty("meanMs").GetDouble());
            output.WriteLine(string.Join("; ", path.Select(p => $"{p.Key} {p.Value}")));
            var gateway = path["node: gateway, take to answer"];
            var stages = path["commit (append, flush, round, commit)"] + path["apply (state machine)"] + path["handoff (apply done to proposer resumed)"];
            Assert.True(path["commit (append, flush, round, commit)"] > 0 && path["follower flush before its answer"] > 0, put.Output);
            Assert.True(stages <= gateway * 1.05, $"stages {stages} ms, gateway {gateway} ms");
            Assert.True(gateway <= latency.GetProperty("mean").GetDouble() * 1.05, $"gateway {gateway} ms, client mean {latency.GetProperty("mean").GetDouble()} ms");
            Assert.Equal(1.0, path["writes per entry"]);
        }

        var orders = await CliProcess.RunAsync(cluster.ConfigPath, "bench", "-w", "orders", "-n", "2", "-d", "1s", "--warmup", "0s", "--json");
        Assert.True(orders.ExitCode == 0, orders.All);
        using (var json = JsonDocument.Parse(orders.Output))
        {
            var placed = json.RootElement.GetProperty("requests").GetInt64();
            Assert.True(placed > 0);
            var stats = (await cluster.StatusAsync(leader))!.Stats;
            Assert.True(stats.Orders >= placed, $"{stats.Orders} orders in the state, {placed} acknowledged");
        }
    }

    [Fact]
    public async Task Bench_messages_delivers_every_acknowledged_message_and_reads_commit_to_delivery_from_the_leader()
    {
        await using var settings = new TestCluster(output: output); // its cluster file only: the bench starts a scratch cluster
        var run = await CliProcess.RunAsync(settings.ConfigPath, "bench-messages", "--clients", "4", "--consumers", "1", "--duration", "2s", "--prime", "0s", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        using var json = JsonDocument.Parse(run.Output);
        var only = Assert.Single(json.RootElement.GetProperty("runs").EnumerateArray());
        var acknowledged = only.GetProperty("ordersAcknowledged").GetInt64();
        Assert.True(acknowledged > 0, run.Output);
        Assert.Equal(0, only.GetProperty("undelivered").GetInt64());
        // One leader applied every event and delivered each once to the one subscriber: the histogram holds every delivery.
        Assert.True(only.GetProperty("leaderDelayCount").GetInt64() >= acknowledged, run.Output);
        var p50 = only.GetProperty("leaderDelayMsP50").GetDouble();
        var p99 = only.GetProperty("leaderDelayMsP99").GetDouble();
        Assert.True(p50 > 0 && p50 <= p99, run.Output);
        Assert.InRange(only.GetProperty("leaderDelayWithin50Ms").GetDouble(), 0, 1);
    }

    [Fact]
    public async Task Failover_trial_finds_a_new_leader_and_loses_no_acknowledged_write()
    {
        var report = await FailoverReportAsync();
        var trial = report.GetProperty("trials")[0];
        Assert.NotEqual(trial.GetProperty("killedMember").GetString(), trial.GetProperty("newLeader").GetString());
        Assert.True(trial.GetProperty("termAfter").GetInt64() > trial.GetProperty("termBefore").GetInt64());
        Assert.InRange(trial.GetProperty("failoverMs").GetDouble(), 1, 30_000);
        // The stages from the nodes' logs: a survivor's election timer fired, the new leader took over, committed, then the write.
        var (detected, elected, committed) = (trial.GetProperty("detectedMs").GetDouble(), trial.GetProperty("electedMs").GetDouble(), trial.GetProperty("committedMs").GetDouble());
        // (The first write can be acknowledged in the very round that commits the no-op, before the leader logs it.)
        Assert.True(0 < detected && detected <= elected && elected <= committed && elected <= trial.GetProperty("failoverMs").GetDouble(), trial.ToString());
        Assert.True(report.GetProperty("acknowledgedWrites").GetInt64() > 0);
        Assert.Equal(0, report.GetProperty("lostWrites").GetInt64());
    }

    [Fact]
    public async Task Failover_trial_with_a_paused_leader_reports_its_failover_and_loses_no_acknowledged_write()
    {
        var report = await FailoverReportAsync("pause");
        Assert.Equal("pause", report.GetProperty("fault").GetString());
        var trial = Assert.Single(report.GetProperty("trials").EnumerateArray());
        Assert.InRange(trial.GetProperty("failoverMs").GetDouble(), 1, 30_000);
        // The frozen leader is resumed in every trial (once a new leader is confirmed, or after 10 s without one).
        Assert.True(trial.GetProperty("resumedAfterMs").GetDouble() > 0);
        Assert.True(report.GetProperty("acknowledgedWrites").GetInt64() > 0);
        Assert.Equal(0, report.GetProperty("lostWrites").GetInt64());
    }

    [NamespacesFact]
    public async Task Failover_trial_with_an_isolated_leader_reports_failover_and_step_down_and_loses_no_acknowledged_write()
    {
        var report = await FailoverReportAsync("partition");
        Assert.Equal("partition", report.GetProperty("fault").GetString());
        var trial = Assert.Single(report.GetProperty("trials").EnumerateArray());
        Assert.NotEqual(trial.GetProperty("killedMember").GetString(), trial.GetProperty("newLeader").GetString());
        Assert.InRange(trial.GetProperty("failoverMs").GetDouble(), 1, 30_000);
        // The isolated leader still answers this machine, so its step-down is seen (DotNext: after its 5 s RPC timeout).
        Assert.InRange(trial.GetProperty("stepDownMs").GetDouble(), 1, 30_000);
        Assert.True(trial.GetProperty("rejoinedAsFollower").GetBoolean());
        Assert.Equal(0, report.GetProperty("lostWrites").GetInt64());
    }

    [Theory]
    [InlineData("--fault", "reboot", "unknown fault 'reboot'")]
    [InlineData("--targets", "etcd", "not supported for the etcd target")]
    public async Task Bad_failover_faults_are_refused_with_a_clear_message(string option, string value, string message)
    {
        await using var files = new TestCluster(output: output);
        string[] fault = option == "--fault" ? [] : ["--fault", "partition"];
        var run = await CliProcess.RunAsync(files.ConfigPath, ["bench", "failover", option, value, .. fault]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recovery_restarts_a_follower_of_a_filled_scratch_cluster_and_reports_when_it_caught_up()
    {
        await using var files = new TestCluster(output: output);
        var run = await CliProcess.RunAsync(files.ConfigPath, "bench", "recovery", "--orders", "300", "--clients", "8", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        using var json = JsonDocument.Parse(run.Output);
        var report = json.RootElement;
        Assert.Equal(300, report.GetProperty("orders").GetInt64());
        var ready = report.GetProperty("processStartToReadyMs").GetDouble();
        Assert.InRange(ready, 1, 300_000);
        Assert.True(report.GetProperty("processStartToCaughtUpMs").GetDouble() >= ready);
        Assert.True(report.GetProperty("leaderCommitIndex").GetInt64() > 0);
    }

    [Fact]
    public async Task Bench_txn_runs_coordinated_transactions_through_two_participant_processes_exactly_once()
    {
        await using var files = new TestCluster(output: output);
        var run = await CliProcess.RunAsync(files.ConfigPath, "bench-txn", "--clients", "4", "--duration", "4s", "--warmup", "0s", "--prime", "0s", "--skip-direct", "--json");
        Assert.True(run.ExitCode == 0, run.All);
        using var json = JsonDocument.Parse(run.Output);
        var report = json.RootElement;
        Assert.True(report.GetProperty("exactlyOnce").GetBoolean(), run.All);
        var coordinated = Assert.Single(report.GetProperty("runs").EnumerateArray());
        Assert.Equal("raftmall", coordinated.GetProperty("mode").GetString());
        Assert.True(coordinated.GetProperty("transactionsPerSecond").GetDouble() > 0, run.All);
        Assert.True(report.GetProperty("transactionsChecked").GetInt64() > 0);
    }

    [Theory]
    [InlineData("--keys", "10", "--keys must be at least")]
    [InlineData("--duration", "soon", "is not a duration")]
    [InlineData("--workload", "deletes", "unknown workload")]
    [InlineData("--target", "redis", "unknown target")]
    public async Task Bad_options_are_refused_with_a_clear_message(string option, string value, string message)
    {
        await using var files = new TestCluster(output: output);
        var run = await CliProcess.RunAsync(files.ConfigPath, "bench", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcd_has_no_orders_workload()
    {
        await using var files = new TestCluster(output: output);
        var run = await CliProcess.RunAsync(files.ConfigPath, "bench", "--target", "etcd", "-w", "orders");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("etcd has no orders workload", run.All, StringComparison.Ordinal);
    }

    /// <summary>
    /// One `bench failover` trial (of <paramref name="fault"/>, or the default kill) at a light load; its cluster file
    /// only supplies the timings, bench starts its own nodes. The run's output is in the test's output.
    /// </summary>
    private async Task<JsonElement> FailoverReportAsync(string? fault = null)
    {
        await using var files = new TestCluster(output: output);
        string[] faultArguments = fault is null ? [] : ["--fault", fault];
        var run = await CliProcess.RunAsync(files.ConfigPath, ["bench", "failover", .. faultArguments, "--trials", "1", "--clients", "4", "--rate", "200", "--json"]);
        output.WriteLine(run.All); // the trial line and the table go to stderr with --json
        Assert.True(run.ExitCode == 0, run.All);
        using var json = JsonDocument.Parse(run.Output);
        return json.RootElement[0].Clone();
    }
}
