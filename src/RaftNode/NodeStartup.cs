
namespace RaftMall.Node;

/// <summary>Reads the node's settings; logs its start and stop.</summary>
public static partial class NodeStartup
{
    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeId}: data in {DataDirectory}; restored snapshot index {SnapshotIndex}; durable follower appends {Durable}")]
    public static partial void LogStarted(ILogger logger, string nodeId, string dataDirectory, long snapshotIndex, bool durable);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeId}: security: {Security}; {Scheme}")]
    public static partial void LogSecurity(ILogger logger, string nodeId, string security, string scheme);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeId}: stopping; log flushed up to {Index}")]
    public static partial void LogStopping(ILogger logger, string nodeId, long index);

    public static NodeSettings LoadSettings(IConfiguration configuration)
    {
        var nodeId = configuration["node"] ?? configuration["RaftMall:Node"]
            ?? throw new ClusterFileException("--node <id> is required");
        // In a container there is often no file: the nodes come from configuration alone
        // (RaftMall__Nodes__0__Id=n1, RaftMall__Nodes__0__Address=http://n1:7101, ...).
        var nodesConfigured = configuration.GetSection("RaftMall:Nodes").Exists();
        var path = configuration["config"] ?? configuration["RaftMall:Config"] ?? FindClusterFile();
        if (path is null && !nodesConfigured)
        {
            throw new ClusterFileException("no cluster.yml in this directory or above it; pass --config <path> "
                + "or list the nodes in configuration (RaftMall__Nodes__0__Id=n1, RaftMall__Nodes__0__Address=http://n1:7101, ...)");
        }
        var cluster = path is null ? new ClusterFile() : ClusterFile.Load(path);
        if (nodesConfigured) cluster.Nodes = []; // a node list in configuration replaces the file's; binding would append to it
        configuration.GetSection("RaftMall").Bind(cluster); // --RaftMall:Key=value and RaftMall__Key overrides
        cluster.Validate(path ?? "the configuration (RaftMall:Nodes)");
        return new NodeSettings(cluster, nodeId, configuration["RaftMall:Address"], configuration.GetValue<bool>("RaftMall:Join"));
    }

    private static string? FindClusterFile()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "cluster.yml");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
