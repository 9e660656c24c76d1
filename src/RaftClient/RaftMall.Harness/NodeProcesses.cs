using System.Globalization;

namespace RaftMall.Harness;

/// <summary>
/// The node processes of a cluster file on this machine, with one convention for every tool, test and the demo
/// controls: each node runs detached with its log in &lt;dataDirectory&gt;/&lt;node&gt;/node.log and its pid in
/// node.pid beside it, so a process started by one of them can be found, stopped or killed by any other.
/// </summary>
public sealed class NodeProcesses(ClusterFile cluster, string nodeDll)
{
    private readonly HashSet<string> _paused = [];
    private string? _programCopy;

    /// <summary>Arguments every start adds after <c>--node</c> and <c>--config</c> (e.g. the demo switch).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Environment variables every start sets (e.g. log levels).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Nodes in a session of their own (true: they outlive the caller's terminal, as `cluster up` wants), or in the
    /// caller's process group (false: a run that owns its nodes, as verify and the tests).
    /// </summary>
    public bool NewSession { get; init; } = true;

    /// <summary>
    /// Run the nodes from a copy of the node's build output in &lt;dataDirectory&gt;/.program (true for the tool's
    /// clusters: `cluster up`, verify, bench), so that rebuilding the checkout does not swap assemblies under running
    /// nodes. The copy is refreshed when no node of the cluster runs, and reused while one does, so a node restarted
    /// next to running ones runs the same build as they do.
    /// </summary>
    public bool RunFromCopy { get; init; }

    /// <summary>The network namespace a node runs in (null: the host's).</summary>
    public Func<string, string?> NamespaceOf { get; init; } = _ => null;

    public string LogPath(string nodeId) => NodeFiles.LogPath(cluster, nodeId);

    /// <summary>The node's data directory (its Raft log, snapshots, configuration, identity, log file and pid).</summary>
    public string DataDirectory(string nodeId) => cluster.NodeDataDirectory(nodeId);

    /// <summary>The pid of the node's running process, or null (no pid file, the process gone, or the pid reused by another program).</summary>
    public int? RunningPid(string nodeId) => NodeFiles.RunningPid(cluster, nodeId);

    public bool IsRunning(string nodeId) => RunningPid(nodeId) is not null;

    public bool IsPaused(string nodeId) => _paused.Contains(nodeId);

    /// <summary>
    /// Starts a node that is not in the cluster file, at <paramref name="address"/>: it joins (waits until a leader adds
    /// it). The address is kept beside its data (node.address), so later starts, stops and restarts find it.
    /// </summary>
    public int StartJoining(string nodeId, Uri address, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (cluster.Nodes.Any(n => n.Id == nodeId)) throw new HarnessException($"node {nodeId} is in the cluster file: start it with Start");
        NodeFiles.WriteAddress(cluster, nodeId, address);
        return Start(nodeId, environment);
    }

    /// <summary>The nodes started here to join that the cluster file does not list (those with a node.address).</summary>
    public IReadOnlyList<string> JoinedNodes() => NodeFiles.JoinedNodes(cluster);

    /// <summary>Starts the node unless it runs; returns its pid.</summary>
    public int Start(string nodeId, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (!File.Exists(nodeDll)) throw new HarnessException($"the node is not built ({nodeDll}); run `dotnet build src/RaftNode -c Release` first", notBuilt: true);
        if (RunningPid(nodeId) is { } running) return running;
        if (cluster.SourcePath.Length == 0) throw new HarnessException("the cluster file has no path: save it first (ClusterFile.Save)");
        var program = RunFromCopy ? _programCopy ??= NodeFiles.CopyProgram(cluster, nodeDll, refresh: !AnyNodeRunning()) : nodeDll;
        var arguments = new List<string> { "dotnet", program, "--node", nodeId, "--config", cluster.SourcePath };
        arguments.AddRange(ExtraArguments);
        if (cluster.Nodes.All(n => n.Id != nodeId))
        {
            var address = NodeFiles.Address(cluster, nodeId) ?? throw new HarnessException($"node {nodeId} is not in {cluster.SourcePath} and has no node.address: start it with StartJoining");
            arguments.Add($"--RaftMall:Address={address.GetLeftPart(UriPartial.Authority)}");
        }
        if (NamespaceOf(nodeId) is { } ns) arguments.InsertRange(0, ["ip", "netns", "exec", ns]);
        var variables = new Dictionary<string, string>(Environment);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) variables[name] = value;
        var pid = Processes.StartDetached(arguments[0], arguments.Skip(1), LogPath(nodeId), environment: variables, newSession: NewSession);
        NodeFiles.WritePid(cluster, nodeId, pid);
        _paused.Remove(nodeId);
        return pid;
    }

    /// <summary>Whether a node of this data directory runs: one of cluster.yml's or one added later (cluster add-node).</summary>
    private bool AnyNodeRunning() =>
        Directory.Exists(cluster.DataRoot()) && Directory.EnumerateDirectories(cluster.DataRoot()).Any(d => IsRunning(Path.GetFileName(d)));

    /// <summary>kill -9; false when the node was not running.</summary>
    public bool Kill(string nodeId)
    {
        if (RunningPid(nodeId) is not { } pid) return false;
        _paused.Remove(nodeId);
        Processes.Kill(pid);
        File.Delete(NodeFiles.PidPath(cluster, nodeId));
        return true;
    }

    /// <summary>SIGTERM (the node flushes its log), then SIGKILL after <paramref name="grace"/>; the pid file goes.</summary>
    public bool Stop(string nodeId, TimeSpan grace)
    {
        if (RunningPid(nodeId) is not { } pid) return false;
        _paused.Remove(nodeId);
        Processes.Stop(pid, grace);
        File.Delete(NodeFiles.PidPath(cluster, nodeId));
        return true;
    }

    /// <summary>SIGSTOP: the node freezes with its connections open.</summary>
    public void Pause(string nodeId)
    {
        if (RunningPid(nodeId) is not { } pid) return;
        Processes.Signal(pid, ProcessSignal.Stop);
        _paused.Add(nodeId);
    }

    /// <summary>SIGCONT.</summary>
    public void Resume(string nodeId)
    {
        if (!_paused.Remove(nodeId) || RunningPid(nodeId) is not { } pid) return;
        Processes.Signal(pid, ProcessSignal.Continue);
    }

    /// <summary>
    /// Fails when a node started here has exited, e.g. because its port belongs to another process: otherwise the
    /// answers would come from whatever else listens there.
    /// </summary>
    public void EnsureRunning(IEnumerable<string> nodeIds)
    {
        foreach (var id in nodeIds)
        {
            if (RunningPid(id) is not null) continue;
            var lines = File.Exists(LogPath(id)) ? File.ReadAllLines(LogPath(id)) : [];
            var cause = lines.LastOrDefault(l => l.Contains("Exception:", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "(empty log)";
            throw new HarnessException($"node {id} exited right after it started; see {LogPath(id)}:\n  {cause.Trim()}");
        }
    }
}

/// <summary>Where a node's log and pid file are: &lt;dataDirectory&gt;/&lt;node&gt;/node.log and node.pid.</summary>
public static class NodeFiles
{
    /// <summary>Where <see cref="NodeProcesses.RunFromCopy"/> keeps the node's program for this cluster.</summary>
    public static string ProgramDirectory(ClusterFile cluster) => Path.Combine(cluster.DataRoot(), ".program");

    /// <summary>
    /// The node's program (<paramref name="nodeDll"/> and everything beside it) copied into
    /// <see cref="ProgramDirectory"/>; an existing copy is kept unless <paramref name="refresh"/>. Returns the copied dll.
    /// </summary>
    public static string CopyProgram(ClusterFile cluster, string nodeDll, bool refresh)
    {
        var target = ProgramDirectory(cluster);
        var copied = Path.Combine(target, Path.GetFileName(nodeDll));
        if (!refresh && File.Exists(copied)) return copied;
        var staging = target + ".new";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        var source = Path.GetDirectoryName(Path.GetFullPath(nodeDll))!;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(staging, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.Move(staging, target);
        return copied;
    }

    public static string LogPath(ClusterFile cluster, string nodeId) => Path.Combine(cluster.NodeDataDirectory(nodeId), "node.log");

    public static string PidPath(ClusterFile cluster, string nodeId) => Path.Combine(cluster.NodeDataDirectory(nodeId), "node.pid");

    /// <summary>Where a node that the cluster file does not list keeps its address (written when it is started to join).</summary>
    public static string AddressPath(ClusterFile cluster, string nodeId) => Path.Combine(cluster.NodeDataDirectory(nodeId), "node.address");

    public static void WriteAddress(ClusterFile cluster, string nodeId, Uri address)
    {
        Directory.CreateDirectory(cluster.NodeDataDirectory(nodeId));
        File.WriteAllText(AddressPath(cluster, nodeId), address.GetLeftPart(UriPartial.Authority));
    }

    /// <summary>The address of a node the cluster file does not list, from its node.address; null when it has none.</summary>
    public static Uri? Address(ClusterFile cluster, string nodeId)
    {
        var path = AddressPath(cluster, nodeId);
        return File.Exists(path) && Uri.TryCreate(File.ReadAllText(path).Trim(), UriKind.Absolute, out var uri) ? uri : null;
    }

    /// <summary>Nodes beside the cluster file's in the data directory that were started to join (they have a node.address).</summary>
    public static IReadOnlyList<string> JoinedNodes(ClusterFile cluster)
    {
        var root = Path.GetDirectoryName(cluster.NodeDataDirectory("_"))!;
        if (!Directory.Exists(root)) return [];
        return [.. Directory.EnumerateDirectories(root)
            .Select(d => Path.GetFileName(d))
            .Where(id => cluster.Nodes.All(n => n.Id != id) && File.Exists(AddressPath(cluster, id)))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Writes "pid starttime": the start time tells the process from a later one that got the same pid.</summary>
    public static void WritePid(ClusterFile cluster, string nodeId, int pid)
    {
        Directory.CreateDirectory(cluster.NodeDataDirectory(nodeId));
        var startTime = Processes.StartTime(pid)?.ToString(CultureInfo.InvariantCulture) ?? "";
        File.WriteAllText(PidPath(cluster, nodeId), $"{pid.ToString(CultureInfo.InvariantCulture)} {startTime}".Trim());
    }

    /// <summary>The pid in the node's pid file while that very process runs; else null (no file, gone, or the pid reused).</summary>
    public static int? RunningPid(ClusterFile cluster, string nodeId)
    {
        var path = PidPath(cluster, nodeId);
        if (!File.Exists(path)) return null;
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0) return null;
        if (parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime)) return Processes.IsSame(pid, startTime) ? pid : null;
        // A pid file without a start time (written before it had one): the process must at least run a node.
        return Processes.IsAlive(pid) && Processes.CommandLine(pid).Contains("RaftNode", StringComparison.Ordinal) ? pid : null;
    }
}
