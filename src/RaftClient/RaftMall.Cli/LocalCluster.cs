using RaftMall.Harness;

namespace RaftMall.Cli;

/// <summary>
/// The nodes of a cluster file as processes on this machine (the harness's <see cref="NodeProcesses"/>: detached, log
/// and pid in &lt;dataDirectory&gt;/&lt;node&gt;/node.log and node.pid, so they outlive the command that started them),
/// with the tool's one addition: the first start creates the cluster's credentials.
/// </summary>
public sealed class LocalCluster(ClusterFile cluster)
{
    private NodeProcesses? _nodes;

    public ClusterFile Cluster => cluster;

    /// <summary>Start nodes with the demo switch (the dashboard's kill/start/order-stream controls); off by default.</summary>
    public bool Demo { get; init; }

    private NodeProcesses Nodes => _nodes ??= new NodeProcesses(cluster, Programs.NodeDll())
    {
        ExtraArguments = Demo ? ["--RaftMall:Demo:Enabled=true"] : [],
        RunFromCopy = true,
    };

    public string LogPath(string nodeId) => NodeFiles.LogPath(cluster, nodeId);

    /// <summary>The pid of a running node process started by this tool (or any other user of the harness), or null.</summary>
    public int? RunningPid(string nodeId) => NodeFiles.RunningPid(cluster, nodeId);

    /// <summary>Starts a node in the background (creating the credentials first) and returns its pid.</summary>
    public int Start(string nodeId)
    {
        EnsureCredentials();
        return Nodes.Start(nodeId);
    }

    /// <summary>Starts a node the cluster file does not list, at <paramref name="address"/>, to join the running cluster; returns its pid.</summary>
    public int StartJoining(string nodeId, Uri address)
    {
        EnsureCredentials();
        return Nodes.StartJoining(nodeId, address);
    }

    /// <summary>
    /// The cluster file's nodes and the nodes started here to join (<c>cluster add-node</c>; their address is kept
    /// beside their data): every node process of this local cluster.
    /// </summary>
    public IReadOnlyList<ClusterNode> AllNodes() =>
        [.. cluster.Nodes, .. NodeFiles.JoinedNodes(cluster).Select(id => new ClusterNode { Id = id, Address = NodeFiles.Address(cluster, id)!.GetLeftPart(UriPartial.Authority) })];

    /// <summary>
    /// Secure by default without a setup step: the first start generates the cluster's peer secret and API keys into
    /// the credentials file (mode 0600, next to the data directory), which the nodes and this tool then read. Keys
    /// given in the cluster file or the environment are used as they are.
    /// </summary>
    public ClusterCredentials? EnsureCredentials()
    {
        if (cluster.Insecure) return null;
        return cluster.PeerSecret.Length > 0 || cluster.ApiKeys.Count > 0 ? cluster.EffectiveCredentials() : ClusterCredentials.EnsureFor(cluster);
    }

    /// <summary>Fails when a node started here has exited (e.g. its port belongs to another process), with its log's last words.</summary>
    public void EnsureRunning(IEnumerable<string> nodeIds) => Nodes.EnsureRunning(nodeIds);

    /// <summary>kill -9 of one node.</summary>
    public bool Kill(string nodeId) => Nodes.Kill(nodeId);

    /// <summary>A graceful stop (SIGTERM, which flushes the log), then SIGKILL if it does not exit in time.</summary>
    public bool Stop(string nodeId, TimeSpan grace) => Nodes.Stop(nodeId, grace);
}
