using System.Text.Json;

namespace RaftMall.Cli.Tests;

/// <summary>The raftmall tool against a real local cluster that it starts itself.</summary>
public class CliTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Up_status_orders_kill_leader_demo_and_down()
    {
        await using var files = new TestCluster(output: output); // only its cluster file and data directory: the CLI starts the nodes
        var config = files.ConfigPath;
        try
        {
            var up = await CliProcess.RunAsync(config, "cluster", "up");
            Assert.True(up.ExitCode == 0, up.All);
            Assert.Contains("leader:", up.Output, StringComparison.Ordinal);
            // The nodes run from a copy of the build output, so rebuilding the checkout cannot swap assemblies under them.
            foreach (var id in files.NodeIds)
            {
                var pid = RaftMall.Harness.NodeFiles.RunningPid(files.Cluster, id) ?? throw new InvalidOperationException($"{id} is not running");
                Assert.Contains(Path.Combine(files.Cluster.DataRoot(), ".program", "RaftNode.dll"), RaftMall.Harness.Processes.CommandLine(pid), StringComparison.Ordinal);
            }

            var status = await CliProcess.RunAsync(config, "cluster", "status", "--json");
            Assert.Equal(0, status.ExitCode);
            using (var doc = JsonDocument.Parse(status.Output))
            {
                Assert.Equal(3, doc.RootElement.GetArrayLength());
                Assert.Single(doc.RootElement.EnumerateArray(), n => n.GetProperty("status").GetProperty("role").GetString() == "leader");
            }

            Assert.Equal(0, (await CliProcess.RunAsync(config, "stock", "set", "apple", "10")).ExitCode);
            var placed = await CliProcess.RunAsync(config, "order", "place", "alice", "apple:2", "--json");
            Assert.True(placed.ExitCode == 0, placed.All);
            var orderId = JsonDocument.Parse(placed.Output).RootElement.GetProperty("orderId").GetInt64();
            Assert.Equal(0, (await CliProcess.RunAsync(config, "order", "pay", orderId.ToString())).ExitCode);
            var second = JsonDocument.Parse((await CliProcess.RunAsync(config, "order", "place", "bob", "apple:3", "--json")).Output).RootElement.GetProperty("orderId").GetInt64();
            Assert.Equal(0, (await CliProcess.RunAsync(config, "order", "cancel", second.ToString())).ExitCode);
            var stock = JsonDocument.Parse((await CliProcess.RunAsync(config, "stock", "get", "apple", "--json")).Output).RootElement;
            Assert.Equal((8L, 0L, 2L), (stock.GetProperty("available").GetInt64(), stock.GetProperty("locked").GetInt64(), stock.GetProperty("sold").GetInt64()));

            // txn: a checkout of built-in branches (stock lock + order), shown, listed, and refused a retry once finished
            var begun = await CliProcess.RunAsync(config, "txn", "begin", "--wait", "finished", "--json",
                """{"gid":"cli-1","mode":"tcc","branches":[{"branchId":"lock","kind":"stock","sku":"apple","quantity":1},{"branchId":"order","kind":"order","userId":"carol","items":[{"sku":"apple","quantity":1}]}]}""");
            Assert.True(begun.ExitCode == 0, begun.All);
            Assert.Equal("committed", JsonDocument.Parse(begun.Output).RootElement.GetProperty("status").GetString());
            var shown = await CliProcess.RunAsync(config, "txn", "show", "cli-1");
            Assert.Contains("confirmed", shown.Output, StringComparison.Ordinal);
            var listed = JsonDocument.Parse((await CliProcess.RunAsync(config, "txn", "list", "--status", "committed", "--json")).Output).RootElement;
            Assert.Equal("cli-1", listed.GetProperty("transactions")[0].GetProperty("gid").GetString());
            Assert.Equal(0, JsonDocument.Parse((await CliProcess.RunAsync(config, "txn", "list", "--stuck", "--json")).Output).RootElement.GetProperty("transactions").GetArrayLength());
            var retried = await CliProcess.RunAsync(config, "txn", "retry", "cli-1");
            Assert.Equal(1, retried.ExitCode);
            Assert.Contains("transaction_finished", retried.All, StringComparison.Ordinal);
            Assert.Equal(2, (await CliProcess.RunAsync(config, "txn", "begin", "{not json")).ExitCode);
            stock = JsonDocument.Parse((await CliProcess.RunAsync(config, "stock", "get", "apple", "--json")).Output).RootElement;
            Assert.Equal((6L, 0L, 4L), (stock.GetProperty("available").GetInt64(), stock.GetProperty("locked").GetInt64(), stock.GetProperty("sold").GetInt64()));

            var again = await CliProcess.RunAsync(config, "order", "pay", orderId.ToString());
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("order_not_pending", again.All, StringComparison.Ordinal);
            var unknown = await CliProcess.RunAsync(config, "order", "get", "999999");
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("order_not_found", unknown.All, StringComparison.Ordinal);

            var killed = await CliProcess.RunAsync(config, "cluster", "kill-leader", "--json");
            Assert.True(killed.ExitCode == 0, killed.All);
            var oldLeader = JsonDocument.Parse(killed.Output).RootElement.GetProperty("killed").GetString();
            var newLeader = await WaitForNewLeaderAsync(config, oldLeader!);
            Assert.NotEqual(oldLeader, newLeader);
            Assert.Equal(0, (await CliProcess.RunAsync(config, "cluster", "restart", oldLeader!)).ExitCode);

            var demo = await CliProcess.RunAsync(config, "demo", "failover", "--duration", "6", "--kill-after", "2", "--restart-after", "2", "--clients", "4");
            output.WriteLine(demo.All);
            Assert.True(demo.ExitCode == 0, demo.All);
            Assert.Contains("verdict: OK", demo.Output, StringComparison.Ordinal);
        }
        finally
        {
            var down = await CliProcess.RunAsync(config, "cluster", "down");
            output.WriteLine(down.All);
        }
        Assert.Empty(NodeProcessesUsing(config));
    }

    [Fact]
    public async Task Errors_are_clear_and_exit_codes_distinct()
    {
        await using var files = new TestCluster(output: output);
        var noCluster = await CliProcess.RunAsync(files.ConfigPath, "cluster", "status");
        Assert.Equal(3, noCluster.ExitCode);
        Assert.Contains("no node of cluster.yml answers at 127.0.0.1:", noCluster.All, StringComparison.Ordinal);
        Assert.Contains("raftmall cluster up", noCluster.All, StringComparison.Ordinal);

        var write = await CliProcess.RunAsync(files.ConfigPath, "stock", "set", "apple", "1");
        Assert.Equal(3, write.ExitCode);

        var badItem = await CliProcess.RunAsync(files.ConfigPath, "order", "place", "alice", "apple");
        Assert.Equal(2, badItem.ExitCode);
        Assert.Contains("sku:quantity", badItem.All, StringComparison.Ordinal);

        var badNumber = await CliProcess.RunAsync(files.ConfigPath, "order", "pay", "abc");
        Assert.NotEqual(0, badNumber.ExitCode);

        var unknownNode = await CliProcess.RunAsync(files.ConfigPath, "cluster", "kill", "n9");
        Assert.Equal(2, unknownNode.ExitCode);

        var missingConfig = await CliProcess.RunAsync(Path.Combine(files.Root, "nope.yml"), "cluster", "status");
        Assert.Equal(2, missingConfig.ExitCode);
        Assert.Contains("does not exist", missingConfig.All, StringComparison.Ordinal);

        var help = await CliProcess.RunAsync(files.ConfigPath, "order", "place", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("sku:quantity", help.Output, StringComparison.Ordinal);
    }

    private static async Task<string> WaitForNewLeaderAsync(string config, string oldLeader)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var status = await CliProcess.RunAsync(config, "cluster", "status", "--json");
            if (status.ExitCode == 0)
            {
                foreach (var node in JsonDocument.Parse(status.Output).RootElement.EnumerateArray())
                {
                    if (node.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Object && s.GetProperty("role").GetString() == "leader"
                        && s.GetProperty("nodeId").GetString() != oldLeader)
                    {
                        return s.GetProperty("nodeId").GetString()!;
                    }
                }
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("no new leader");
    }

    /// <summary>Processes whose command line names this cluster file: what `cluster down` must leave none of.</summary>
    private static List<int> NodeProcessesUsing(string config) =>
        [.. Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d)).Where(p => p.All(char.IsDigit))
            .Where(p => { try { return File.ReadAllText($"/proc/{p}/cmdline").Contains(config, StringComparison.Ordinal); } catch (IOException) { return false; } catch (UnauthorizedAccessException) { return false; } })
            .Select(int.Parse)];
}
