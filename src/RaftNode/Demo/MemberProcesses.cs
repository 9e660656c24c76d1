using System.Diagnostics;
using RaftMall.Harness;

namespace RaftMall.Node.Demo;

/// <summary>
/// Demo mode only: this node's own death (SIGKILL to itself, as `kill -9` would) and the start of another member of
/// the cluster file as a process on this machine. A member is started the way this node was (same executable, same
/// arguments and working directory, another --node) with the process harness: detached, its output appended to
/// &lt;dataDirectory&gt;/&lt;node&gt;/node.log and its pid in node.pid, the convention every tool shares, so
/// `raftmall cluster down` stops it too.
/// </summary>
public sealed partial class MemberProcesses(NodeSettings settings, ILogger<MemberProcesses> logger)
{
    private const string DemoSwitchArgument = "--RaftMall:Demo:Enabled=true";
    private const string AddressArgument = "--RaftMall:Address=";

    /// <summary>SIGKILL to this process: no flush, no graceful stop, exactly what `kill -9` does.</summary>
    public void KillSelf()
    {
        LogKillingSelf(settings.NodeId, Environment.ProcessId);
        using var self = Process.GetCurrentProcess();
        self.Kill(); // SIGKILL on Linux
    }

    /// <summary>Starts the member <paramref name="node"/> and returns its pid.</summary>
    public int Start(ClusterNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var nodeId = node.Id;
        // A member that cluster.yml does not list (added later) is started at its address; it keeps its configuration.
        var command = CommandLineFor(nodeId, settings.BootstrapNodeAt(node.Uri) is null ? node.Address : null);
        var pid = Processes.StartDetached(
            command[0], command.Skip(1), NodeFiles.LogPath(settings.Cluster, nodeId),
            workingDirectory: Environment.CurrentDirectory, // a cluster file found by searching upwards is found again
            environment: new Dictionary<string, string> { ["RaftMall__Node"] = nodeId }); // when this node took its id from the environment
        NodeFiles.WritePid(settings.Cluster, nodeId, pid);
        LogStarted(nodeId, pid);
        return pid;
    }

    /// <summary>This process's own command line with another node id (and address, when given), and the demo switch kept on.</summary>
    private static List<string> CommandLineFor(string nodeId, string? address)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the process path is unknown");
        var command = new List<string> { host };
        // `dotnet RaftNode.dll ...` runs through the shared host; an apphost (./RaftNode) is the executable itself.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") command.Add(typeof(MemberProcesses).Assembly.Location);
        var args = Environment.GetCommandLineArgs().Skip(1).ToList();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--node" && i + 1 < args.Count)
            {
                i++;
                continue;
            }
            if (args[i].StartsWith("--node=", StringComparison.Ordinal) || args[i].StartsWith(AddressArgument, StringComparison.OrdinalIgnoreCase)) continue;
            command.Add(args[i]);
        }
        command.AddRange(["--node", nodeId]);
        if (address is not null) command.Add(AddressArgument + address);
        if (!command.Contains(DemoSwitchArgument)) command.Add(DemoSwitchArgument); // however this node got the switch
        return command;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "demo: node {NodeId} (pid {Pid}) kills itself with SIGKILL")]
    private partial void LogKillingSelf(string nodeId, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "demo: started node {NodeId} as pid {Pid}")]
    private partial void LogStarted(string nodeId, int pid);
}
