using System.Text.Json;

namespace RaftMall.Cli.Tests;

/// <summary>
/// `raftmall demo messages` as a user runs it: it starts the cluster and the sample stock service, kills -9 the leader
/// and the service during delivery, restarts them, and judges every acknowledged message applied exactly once, in order.
/// </summary>
public class DemoMessagesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Demo_messages_applies_every_acknowledged_message_once_in_order_across_both_kills_and_stops_what_it_started()
    {
        await using var files = new TestCluster(output: output); // only its cluster file: the demo starts (and stops) the nodes
        var demo = await CliProcess.RunAsync(files.ConfigPath, "--json", "demo", "messages", "--clients", "4", "--duration", "6",
            "--kill-leader-after", "2", "--kill-consumer-after", "3", "--down-for", "1");
        output.WriteLine(demo.All);
        Assert.True(demo.ExitCode == 0, demo.All);
        using var report = JsonDocument.Parse(demo.Output);
        var root = report.RootElement;
        Assert.True(root.GetProperty("ordersAcknowledged").GetInt32() > 0, "no order was acknowledged");
        Assert.StartsWith("n", root.GetProperty("killedLeader").GetString(), StringComparison.Ordinal);
        Assert.Contains(root.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("what").GetString()!.StartsWith("kill -9 of the stock service", StringComparison.Ordinal));
        var subscriptions = root.GetProperty("subscriptions").EnumerateArray().ToList();
        Assert.Equal(2, subscriptions.Count);
        foreach (var s in subscriptions)
        {
            var check = s.GetProperty("check");
            Assert.True(check.GetProperty("applied").GetInt32() >= check.GetProperty("acknowledged").GetInt32(), s.ToString());
            Assert.Empty(check.GetProperty("lost").EnumerateArray());
            Assert.Empty(check.GetProperty("outOfOrder").EnumerateArray());
            Assert.Empty(check.GetProperty("appliedTwice").EnumerateArray());
            Assert.Equal(s.GetProperty("unitsExpected").GetInt64(), s.GetProperty("unitsDeducted").GetInt64());
        }
        foreach (var node in files.NodeIds) Assert.Null(await files.StatusAsync(node)); // the cluster it started is stopped
        Assert.Empty(Directory.GetDirectories(Path.Combine(files.Root, "data"), "consumer-demo-*"));
    }
}
