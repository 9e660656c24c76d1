using Microsoft.Extensions.Logging.Abstractions;
using RaftMall.Node.Consensus.Raft;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// The persisted Raft configuration: seeded from the bootstrap list on a node's first start (and on the first start
/// of a round-1 data directory, which had none), kept as it is afterwards whatever cluster.yml says, and not seeded
/// on a node that joins.
/// </summary>
public sealed class ConfigurationSeedTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftmall-seed-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private ClusterFile Cluster(int nodes) => new()
    {
        DataDirectory = _root,
        Nodes = [.. Enumerable.Range(1, nodes).Select(i => new ClusterNode { Id = $"n{i}", Address = $"http://127.0.0.1:{7100 + i}" })],
    };

    private static async Task<string[]> Members(NodeSettings settings) =>
        [.. (await ConfigurationSeed.ReadAsync(settings.MembershipFile, CancellationToken.None)).Select(u => u.ToString())];

    [Fact]
    public async Task A_first_start_seeds_the_bootstrap_list_and_a_restart_keeps_the_persisted_configuration()
    {
        var first = new NodeSettings(Cluster(3), "n1");
        Assert.Equal(ConfigurationSeed.Outcome.Seeded, await ConfigurationSeed.SeedAsync(first, NullLogger.Instance, CancellationToken.None));
        string[] three = ["http://127.0.0.1:7101/", "http://127.0.0.1:7102/", "http://127.0.0.1:7103/"];
        Assert.Equal(three, await Members(first));

        // cluster.yml changed (or lost a node): the node keeps what it persisted.
        var restarted = new NodeSettings(Cluster(5), "n1");
        Assert.Equal(ConfigurationSeed.Outcome.Kept, await ConfigurationSeed.SeedAsync(restarted, NullLogger.Instance, CancellationToken.None));
        Assert.Equal(three, await Members(restarted));
        Assert.False(File.Exists(first.MembershipFile + ".seed"));
    }

    [Fact]
    public async Task A_round_one_data_directory_migrates_to_the_bootstrap_list()
    {
        var settings = new NodeSettings(Cluster(3), "n2");
        Directory.CreateDirectory(settings.WalDirectory);
        await File.WriteAllTextAsync(Path.Combine(settings.WalDirectory, "checkpoint"), "x");
        Assert.Equal(ConfigurationSeed.Outcome.Migrated, await ConfigurationSeed.SeedAsync(settings, NullLogger.Instance, CancellationToken.None));
        Assert.Equal(3, (await Members(settings)).Length);
    }

    [Fact]
    public async Task A_joining_node_starts_without_a_configuration()
    {
        var joining = new NodeSettings(Cluster(3), "n4", "http://127.0.0.1:7104");
        Assert.True(joining.Joins);
        Assert.Equal(ConfigurationSeed.Outcome.Joining, await ConfigurationSeed.SeedAsync(joining, NullLogger.Instance, CancellationToken.None));
        Assert.False(File.Exists(joining.MembershipFile));
        Assert.True(Directory.Exists(Path.GetDirectoryName(joining.MembershipFile)), "DotNext writes the configuration it is given into this directory");

        var replacement = new NodeSettings(Cluster(3), "n3", join: true);
        Assert.Equal(ConfigurationSeed.Outcome.Joining, await ConfigurationSeed.SeedAsync(replacement, NullLogger.Instance, CancellationToken.None));
    }

    [Fact]
    public void A_node_outside_the_bootstrap_list_needs_its_address_and_a_listed_node_keeps_its_own()
    {
        var missing = Assert.Throws<ClusterFileException>(() => new NodeSettings(Cluster(3), "n4"));
        Assert.Contains("--RaftMall:Address", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ClusterFileException>(() => new NodeSettings(Cluster(3), "n1", "http://127.0.0.1:7999"));
        Assert.False(new NodeSettings(Cluster(3), "n1", "http://127.0.0.1:7101").Joins);
    }
}
