using System.Text.Json;

namespace RaftMall.Cli.Tests;

/// <summary>raftmall cluster add-node and member list|add|remove against a local cluster the tool starts.</summary>
public class MemberCliTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Add_node_starts_and_adds_a_node_that_member_list_shows_member_remove_removes_and_cluster_down_stops()
    {
        await using var files = new TestCluster(output: output); // only its cluster file and data directory: the CLI starts the nodes
        var config = files.ConfigPath;
        try
        {
            var up = await CliProcess.RunAsync(config, "cluster", "up");
            Assert.True(up.ExitCode == 0, up.All);

            var added = await CliProcess.RunAsync(config, "cluster", "add-node", "n4", "--json");
            Assert.True(added.ExitCode == 0, added.All);
            using (var doc = JsonDocument.Parse(added.Output))
            {
                Assert.Equal("n4", doc.RootElement.GetProperty("node").GetString());
                Assert.Equal(4, doc.RootElement.GetProperty("members").GetProperty("members").GetArrayLength());
            }
            Assert.Equal(2, (await CliProcess.RunAsync(config, "cluster", "add-node", "n4")).ExitCode); // exists already

            // A node learns a new member's id from that member (its Raft metadata): a moment after the change at most.
            List<string?> ids = [];
            for (var attempt = 0; attempt < 20 && !ids.SequenceEqual(["n1", "n2", "n3", "n4"]); attempt++)
            {
                if (attempt > 0) await Task.Delay(250);
                var list = await CliProcess.RunAsync(config, "member", "list", "--json");
                Assert.True(list.ExitCode == 0, list.All);
                ids = [.. JsonDocument.Parse(list.Output).RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("nodeId").GetString())];
            }
            Assert.Equal(["n1", "n2", "n3", "n4"], ids);

            // cluster status shows the node the cluster file does not list.
            var status = await CliProcess.RunAsync(config, "cluster", "status", "--json");
            Assert.Equal(4, JsonDocument.Parse(status.Output).RootElement.GetArrayLength());

            var unknown = await CliProcess.RunAsync(config, "member", "remove", "n9");
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("unknown_member", unknown.All, StringComparison.Ordinal);

            var removed = await CliProcess.RunAsync(config, "member", "remove", "n4");
            Assert.True(removed.ExitCode == 0, removed.All);
            Assert.Contains("removed n4", removed.Output, StringComparison.Ordinal);
        }
        finally
        {
            var down = await CliProcess.RunAsync(config, "cluster", "down");
            output.WriteLine(down.All);
            Assert.Contains("n4", down.Output, StringComparison.Ordinal); // the added node is stopped too
        }
    }
}
