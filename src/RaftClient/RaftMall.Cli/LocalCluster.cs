using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using RaftMall.Client;

namespace RaftMall.Cli;

/// <summary>
/// The nodes of a cluster file as processes on this machine: each runs detached (setsid), with its log and pid in
/// &lt;dataDirectory&gt;/&lt;node&gt;/node.log and node.pid, so they outlive the command that started them.
/// </summary>
public sealed class LocalCluster(ClusterFile cluster)
{
    public ClusterFile Cluster => cluster;

    /// <summary>Start nodes with the demo switch (the dashboard's kill/start/order-stream controls); off by default.</summary>
    public bool Demo { get; init; }

    public static string NodeDll()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("RAFTMALL_NODE_DLL");
        if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
        var built = typeof(LocalCluster).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RaftNodeDll").Value!;
        return Path.GetFullPath(built);
    }

    public string LogPath(string nodeId) => Path.Combine(cluster.NodeDataDirectory(nodeId), "node.log");

    private string PidPath(string nodeId) => Path.Combine(cluster.NodeDataDirectory(nodeId), "node.pid");

    /// <summary>The pid of a running node process started by this tool, or null.</summary>
    public int? RunningPid(string nodeId)
    {
        var path = PidPath(nodeId);
        if (!File.Exists(path) || !int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return null;
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return null;
            var cmdline = File.Exists($"/proc/{pid}/cmdline") ? File.ReadAllText($"/proc/{pid}/cmdline") : "";
            return cmdline.Contains("RaftNode", StringComparison.Ordinal) ? pid : null; // not a reused pid
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Starts a node in the background and returns its pid.</summary>
    public int Start(string nodeId)
    {
        var dll = NodeDll();
        if (!File.Exists(dll)) throw new CliException(ExitCodes.Usage, $"the node is not built ({dll}); run `dotnet build src/RaftNode -c Release` first");
        if (RunningPid(nodeId) is { } running) return running;
        EnsureCredentials();
        Directory.CreateDirectory(cluster.NodeDataDirectory(nodeId));
        var command = $"exec setsid dotnet {Quote(dll)} --node {Quote(nodeId)} --config {Quote(cluster.SourcePath)}{(Demo ? " --RaftMall:Demo:Enabled=true" : "")} >> {Quote(LogPath(nodeId))} 2>&1 < /dev/null & echo $!";
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var shell = Process.Start(info) ?? throw new CliException(ExitCodes.Failure, "could not start /bin/sh");
        var pidText = shell.StandardOutput.ReadToEnd().Trim();
        shell.WaitForExit();
        var pid = int.Parse(pidText, CultureInfo.InvariantCulture);
        File.WriteAllText(PidPath(nodeId), pid.ToString(CultureInfo.InvariantCulture));
        return pid;
    }

    /// <summary>
    /// Secure by default without a setup step: the first start generates the cluster's peer secret and API keys into
    /// the credentials file (mode 0600, next to the data directory), which the nodes and this tool then read. Keys
    /// given in the cluster file or the environment are used as they are.
    /// </summary>
    public ClusterCredentials? EnsureCredentials()
    {
        if (cluster.Insecure) return null;
        var credentials = cluster.PeerSecret.Length > 0 || cluster.ApiKeys.Count > 0 ? cluster.EffectiveCredentials() : ClusterCredentials.EnsureFor(cluster);
        return credentials;
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
            throw new CliException(ExitCodes.Failure, $"node {id} exited right after it started; see {LogPath(id)}:\n  {cause.Trim()}");
        }
    }

    /// <summary>kill -9 of one node.</summary>
    public bool Kill(string nodeId)
    {
        if (RunningPid(nodeId) is not { } pid) return false;
        Signal(pid, 9);
        WaitForExit(pid, TimeSpan.FromSeconds(5));
        return true;
    }

    /// <summary>A graceful stop (SIGTERM, which flushes the log), then SIGKILL if it does not exit in time.</summary>
    public bool Stop(string nodeId, TimeSpan grace)
    {
        if (RunningPid(nodeId) is not { } pid) return false;
        Signal(pid, 15);
        if (!WaitForExit(pid, grace))
        {
            Signal(pid, 9);
            WaitForExit(pid, TimeSpan.FromSeconds(5));
        }
        File.Delete(PidPath(nodeId));
        return true;
    }

    private static bool WaitForExit(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] == "Z") return true;
            Thread.Sleep(20);
        }
        return false;
    }

    private static void Signal(int pid, int signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { UseShellExecute = false, RedirectStandardError = true });
        kill?.WaitForExit();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
