
namespace RaftMall.Cli.Tests;

/// <summary>`raftmall demo txn` as a user runs it: it starts the cluster and the points service, kills the leader, and judges.</summary>
public class DemoTxnTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Demo_txn_finishes_phase_2_after_the_kill_reports_agreement_and_stops_what_it_started()
    {
        await using var files = new TestCluster(output: output); // only its cluster file: the demo starts (and stops) the nodes
        var demo = await CliProcess.RunAsync(files.ConfigPath, "demo", "txn", "--checkouts", "4");
        output.WriteLine(demo.All);
        Assert.True(demo.ExitCode == 0, demo.All);
        Assert.Contains("verdict: OK", demo.Output, StringComparison.Ordinal);
        Assert.Contains("kill -9 of leader", demo.Output, StringComparison.Ordinal);
        Assert.Matches(@"committed — phase 2 finished by n\d", demo.Output);
        foreach (var node in files.NodeIds) Assert.Null(await files.StatusAsync(node)); // the cluster it started is stopped
        Assert.Empty(Directory.GetDirectories(Path.Combine(files.Root, "data"), "points-demo-*"));
    }
}
