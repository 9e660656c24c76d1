using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using Microsoft.AspNetCore.Connections;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Seeds DotNext's persistent configuration storage (the member list, <see cref="NodeSettings.MembershipFile"/>) on a
/// node's first start. That storage has no builder of initial members, so the list is written once in DotNext's own
/// format: an in-memory storage built with the members serializes it, and the persistent storage saves it as version 0,
/// before the cluster starts. Later configurations come through the log (and the leader) with higher versions.
/// </summary>
public static partial class ConfigurationSeed
{
    /// <summary>What <see cref="SeedAsync"/> found.</summary>
    public enum Outcome
    {
        /// <summary>The file exists: the configuration is the node's own, cluster.yml is not read.</summary>
        Kept,

        /// <summary>A new data directory: seeded from the bootstrap list.</summary>
        Seeded,

        /// <summary>A data directory with a log but no configuration file (round 1): seeded from the bootstrap list, which was its configuration.</summary>
        Migrated,

        /// <summary>A joining node: no configuration until a leader adds it.</summary>
        Joining,
    }

    /// <summary>Writes the bootstrap configuration unless the node has one or joins.</summary>
    public static async Task<Outcome> SeedAsync(NodeSettings settings, ILogger logger, CancellationToken token)
    {
        var file = settings.MembershipFile;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!); // DotNext writes the file (and its temporary files) there
        if (File.Exists(file)) return Log(Outcome.Kept);
        if (settings.Joins) return Log(Outcome.Joining);
        var migrating = Directory.Exists(settings.WalDirectory) && Directory.EnumerateFileSystemEntries(settings.WalDirectory).Any();
        await WriteAsync(file, settings.Cluster.Nodes.Select(NodeSettings.MemberUri), token).ConfigureAwait(false);
        return Log(migrating ? Outcome.Migrated : Outcome.Seeded);

        Outcome Log(Outcome outcome)
        {
            LogSeed(logger, settings.NodeId, outcome, outcome is Outcome.Seeded or Outcome.Migrated ? settings.Cluster.Nodes.Count : 0, file);
            return outcome;
        }
    }

    /// <summary>Writes <paramref name="members"/> as configuration version 0 to a new file (by rename, so a crash leaves none or all).</summary>
    public static async Task WriteAsync(string file, IEnumerable<Uri> members, CancellationToken token)
    {
        var directory = Path.GetDirectoryName(file)!;
        Directory.CreateDirectory(directory);
        var seed = file + ".seed";
        File.Delete(seed);

        var initial = new ServiceCollection().UseInMemoryConfigurationStorage(list =>
        {
            foreach (var member in members) list.Add(new UriEndPoint(member));
        });
        await using (var initialServices = initial.BuildServiceProvider())
        {
            var (configuration, _) = await ((IClusterConfigurationStorage)initialServices.GetRequiredService<IClusterConfigurationStorage<UriEndPoint>>())
                .LoadConfigurationAsync(token).ConfigureAwait(false);
            await using var persistentServices = new ServiceCollection().UsePersistentConfigurationStorage(seed).BuildServiceProvider();
            var persistent = (IClusterConfigurationStorage)persistentServices.GetRequiredService<IClusterConfigurationStorage<UriEndPoint>>();
            if (!await persistent.SaveConfigurationAsync(configuration, 0L, token).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"the bootstrap configuration could not be written to {seed}");
            }
        }
        File.Move(seed, file);
    }

    /// <summary>The members in a configuration file (for tests and tools; the node itself asks DotNext).</summary>
    public static async Task<IReadOnlyList<Uri>> ReadAsync(string file, CancellationToken token)
    {
        await using var services = new ServiceCollection().UsePersistentConfigurationStorage(file).BuildServiceProvider();
        var storage = services.GetRequiredService<IClusterConfigurationStorage<UriEndPoint>>();
        var configuration = await storage.LoadConfigurationAsync(token).ConfigureAwait(false);
        return [.. configuration.Members.Select(m => m.Uri).OrderBy(u => u.ToString(), StringComparer.Ordinal)];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeId}: Raft configuration {Outcome} ({Members} bootstrap members) in {File}")]
    private static partial void LogSeed(ILogger logger, string nodeId, Outcome outcome, int members, string file);
}
