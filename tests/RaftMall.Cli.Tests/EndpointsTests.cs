using System.Diagnostics;
using System.Text.Json;

namespace RaftMall.Cli.Tests;

/// <summary>The tool against a cluster known only by its addresses and a key, as etcdctl talks to any etcd.</summary>
public class EndpointsTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public async Task Data_commands_reach_a_cluster_given_only_by_endpoints_and_an_api_key()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        await cluster.WaitForLeaderAsync();
        var endpoints = string.Join(',', cluster.NodeIds.Select(id => cluster.Address(id).GetLeftPart(UriPartial.Authority)));
        string[] admin = ["--endpoints", endpoints, "--api-key", TestCluster.TestKeys.Admin];

        // Flags: no cluster.yml anywhere above the working directory, no RAFTMALL_ variables.
        var set = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, ["stock", "set", "pear", "5", .. admin]);
        Assert.True(set.ExitCode == 0, set.All);
        var placed = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, ["order", "place", "ann", "pear:2", "--json", .. admin]);
        Assert.True(placed.ExitCode == 0, placed.All);
        Assert.Equal("pending", JsonDocument.Parse(placed.Output).RootElement.GetProperty("status").GetString());

        var status = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, ["cluster", "status", "--json", .. admin]);
        Assert.True(status.ExitCode == 0, status.All);
        var nodes = JsonDocument.Parse(status.Output).RootElement.EnumerateArray().ToList();
        Assert.Equal(cluster.NodeIds.Order(), nodes.Select(n => n.GetProperty("nodeId").GetString()).Order());
        Assert.Single(nodes, n => n.GetProperty("status").GetProperty("role").GetString() == "leader");
        Assert.All(nodes, n => Assert.Equal(JsonValueKind.Null, n.GetProperty("processRunning").ValueKind)); // not this machine's to know

        // The environment: the reader key reads, and is refused a write (the key given is the key sent).
        var reader = new Dictionary<string, string> { ["RAFTMALL_ENDPOINTS"] = endpoints, ["RAFTMALL_API_KEY"] = TestCluster.TestKeys.Reader };
        var read = await CliProcess.RunWithoutClusterFileAsync(reader, "stock", "get", "pear", "--json");
        Assert.True(read.ExitCode == 0, read.All);
        var level = JsonDocument.Parse(read.Output).RootElement;
        Assert.Equal((3L, 2L, 5L), (level.GetProperty("available").GetInt64(), level.GetProperty("locked").GetInt64(), level.GetProperty("total").GetInt64()));
        var refused = await CliProcess.RunWithoutClusterFileAsync(reader, "stock", "set", "pear", "100");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("forbidden", refused.All, StringComparison.Ordinal);
        // A flag wins over the environment.
        Assert.Equal(0, (await CliProcess.RunWithoutClusterFileAsync(reader, "stock", "set", "pear", "6", "--api-key", TestCluster.TestKeys.Admin)).ExitCode);

        var keyless = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, "stock", "get", "pear", "--endpoints", endpoints);
        Assert.Equal(1, keyless.ExitCode);
        Assert.Contains("unauthenticated", keyless.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_endpoints_timeouts_and_local_commands_with_endpoints_are_refused_clearly()
    {
        var noFile = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, "stock", "get", "pear");
        Assert.Equal(2, noFile.ExitCode);
        Assert.Contains("no cluster.yml", noFile.All, StringComparison.Ordinal);

        var bad = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, "stock", "get", "pear", "--endpoints", "ftp://127.0.0.1:1");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("is not a node address", bad.All, StringComparison.Ordinal);
        var badTimeout = await CliProcess.RunWithoutClusterFileAsync(new Dictionary<string, string> { ["RAFTMALL_TIMEOUT"] = "soon" }, "stock", "get", "pear", "--endpoints", "127.0.0.1:1");
        Assert.Equal(2, badTimeout.ExitCode);
        Assert.Contains("RAFTMALL_TIMEOUT: 'soon' is not a duration", badTimeout.All, StringComparison.Ordinal);

        // Nothing listens: the command gives up after --timeout, not after the default 15 s.
        var port = RaftMall.Harness.Processes.FreePorts(1)[0];
        var clock = Stopwatch.StartNew();
        var dead = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, "stock", "get", "pear", "--endpoints", $"127.0.0.1:{port}", "--api-key", "x", "--timeout", "1s");
        Assert.Equal(3, dead.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", dead.All, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"gave up after {clock.Elapsed}");

        var down = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, "cluster", "down", "--endpoints", $"127.0.0.1:{port}");
        Assert.Equal(2, down.ExitCode);
        Assert.Contains("`cluster down` works from a cluster file", down.All, StringComparison.Ordinal);

        foreach (var command in new[] { new[] { "order", "place" }, ["cluster", "status"], ["kv", "get"], ["bench"] })
        {
            var help = await CliProcess.RunWithoutClusterFileAsync(NoEnvironment, [.. command, "--help"]);
            foreach (var flag in new[] { "--endpoints", "--api-key", "--cacert", "--timeout", "--config", "--json" })
                Assert.Contains(flag, help.Output, StringComparison.Ordinal);
        }
    }
}
