using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Http;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.AspNetCore.Connections;
using RaftMall.Configuration;
using RaftMall.Node.Consensus;

namespace RaftMall.Node;

/// <summary>Reads the node's settings and wires DotNext's Raft, the durable log and the state machine.</summary>
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
        return new NodeSettings(cluster, nodeId);
    }

    public static void ConfigureRaft(WebApplicationBuilder builder, NodeSettings settings)
    {
        var cluster = settings.Cluster;
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["publicEndPoint"] = NodeSettings.MemberUri(settings.Self).ToString(),
            ["coldStart"] = "false", // every member is listed up front
            ["lowerElectionTimeout"] = cluster.ElectionTimeoutLowerMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["upperElectionTimeout"] = cluster.ElectionTimeoutUpperMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["heartbeatThreshold"] = ((double)cluster.HeartbeatIntervalMs / cluster.ElectionTimeoutLowerMs).ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Raft RPCs carry snapshots too: allow seconds for those; elections do not wait for slow peers.
            ["requestTimeout"] = "00:00:10",
            ["rpcTimeout"] = "00:00:05",
            ["protocolVersion"] = "Http1",
        });

        var listen = builder.Configuration["RaftMall:Listen"] ?? settings.Self.Uri.GetLeftPart(UriPartial.Authority);
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
        });

        var services = builder.Services;
        // DotNext asks IHttpMessageHandlerFactory for its "raftClient" handler: a short connect timeout so a dead
        // peer is noticed within an election timeout, not the OS's.
        // The handler trusts the cluster's CA file for https:// peers; PeerSigner signs every Raft request.
        var caFile = cluster.TlsCaFile.Length > 0 ? cluster.ResolvePath(cluster.TlsCaFile) : null;
        var raftClient = services.AddHttpClient("raftClient").ConfigurePrimaryHttpMessageHandler(() =>
        {
            var handler = Contract.TrustedCertificates.Handler(caFile, TimeSpan.FromMilliseconds(cluster.ElectionTimeoutLowerMs));
            handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30);
            return handler;
        });
        Security.SecurityStartup.Configure(builder, settings, raftClient);
        services.ConfigureCluster<ClusterLifetime>();
        services.UseInMemoryConfigurationStorage(members =>
        {
            foreach (var node in cluster.Nodes) members.Add(new UriEndPoint(NodeSettings.MemberUri(node)));
        });

        // What UseStateMachine<T>(options) registers, with our log type in place of WriteAheadLog.
        var walOptions = new WriteAheadLog.Options
        {
            Location = settings.WalDirectory,
            ChunkSize = cluster.LogChunkSizeMiB * 1024 * 1024,
            MemoryManagement = cluster.LogMemory == "shared" ? WriteAheadLog.MemoryManagementStrategy.SharedMemory : WriteAheadLog.MemoryManagementStrategy.PrivateMemory,
        };
        services.AddSingleton<MallStateHost>();
        services.AddSingleton<IStateMachine>(sp => sp.GetRequiredService<MallStateHost>());
        services.AddSingleton(sp => new DurableWriteAheadLog(walOptions, sp.GetRequiredService<IStateMachine>(), cluster.DurableFollowerAppends));
        services.AddSingleton<IPersistentState>(sp => sp.GetRequiredService<DurableWriteAheadLog>());
        services.AddSingleton<DotNext.IO.Log.IAuditTrail<IRaftLogEntry>>(sp => sp.GetRequiredService<DurableWriteAheadLog>());
        builder.JoinCluster();
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
