using System.Diagnostics;

namespace RaftMall.Harness;

/// <summary>
/// One network namespace per node on a bridge (10.213.0.0/24), so partitions cut node-to-node traffic both ways with
/// iptables inside the namespaces. Needs root, `ip` and `iptables`; clients on this machine reach every node through
/// the bridge. Everything it creates is named rmv-* and removed on dispose (and before a new run).
/// </summary>
public sealed class Network : IDisposable
{
    private const string Bridge = "rmv-br0";
    private readonly List<string> _nodes;
    private readonly FileStream _lock;

    private Network(List<string> nodes, FileStream lockFile) => (_nodes, _lock) = (nodes, lockFile);

    private static FileStream AcquireLock()
    {
        var path = Path.Combine(Path.GetTempPath(), "raftmall-verify-netns.lock");
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500); // another verify run holds the namespaces
            }
        }
    }

    public static string Namespace(string node) => "rmv-" + node;

    public static string Address(int index) => $"10.213.0.{index + 1}";

    /// <summary>This machine's address on the bridge: where the nodes reach a server of the host (a push subscriber).</summary>
    public const string HostAddress = "10.213.0.254";

    /// <summary>Why namespaces cannot be used here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (Environment.UserName != "root" && Run("id", "-u").Output.Trim() != "0") return "network namespaces need root";
        if (Run("ip", "-V").ExitCode != 0) return "the `ip` command (iproute2) is missing";
        if (Run("iptables", "--version").ExitCode != 0) return "the `iptables` command is missing (apt-get install iptables)";
        return null;
    }

    /// <summary>Creates the namespaces; one run at a time per machine (they share names), so it takes a lock file.</summary>
    public static Network Create(IReadOnlyList<string> nodes)
    {
        var lockFile = AcquireLock();
        Cleanup(nodes);
        var network = new Network([.. nodes], lockFile);
        Must("ip", "link", "add", Bridge, "type", "bridge");
        Must("ip", "addr", "add", $"{HostAddress}/24", "dev", Bridge);
        Must("ip", "link", "set", Bridge, "up");
        // If the host filters bridged traffic (br_netfilter, as with Docker's FORWARD DROP), let the bridge through.
        Run("iptables", "-I", "FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT");
        for (var i = 0; i < nodes.Count; i++)
        {
            var ns = Namespace(nodes[i]);
            Must("ip", "netns", "add", ns);
            Must("ip", "link", "add", $"rmv-v{i}", "type", "veth", "peer", "name", "eth0", "netns", ns);
            Must("ip", "link", "set", $"rmv-v{i}", "master", Bridge);
            Must("ip", "link", "set", $"rmv-v{i}", "up");
            Must("ip", "-n", ns, "addr", "add", $"{Address(i)}/24", "dev", "eth0");
            Must("ip", "-n", ns, "link", "set", "eth0", "up");
            Must("ip", "-n", ns, "link", "set", "lo", "up");
        }
        return network;
    }

    /// <summary>Cuts traffic between every node of <paramref name="side"/> and every node not in it, both ways.</summary>
    public void Partition(IReadOnlyCollection<string> side)
    {
        for (var i = 0; i < _nodes.Count; i++)
        {
            for (var j = 0; j < _nodes.Count; j++)
            {
                if (i == j || side.Contains(_nodes[i]) == side.Contains(_nodes[j])) continue;
                var ns = Namespace(_nodes[i]);
                Must("ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-s", Address(j), "-j", "DROP");
                Must("ip", "netns", "exec", ns, "iptables", "-A", "OUTPUT", "-d", Address(j), "-j", "DROP");
            }
        }
    }

    public void Heal()
    {
        foreach (var node in _nodes) Run("ip", "netns", "exec", Namespace(node), "iptables", "-F");
    }

    public void Dispose()
    {
        Cleanup(_nodes);
        _lock.Dispose();
    }

    // Removes everything named rmv-*, also what a crashed earlier run left behind.
    private static void Cleanup(IEnumerable<string> nodes)
    {
        var namespaces = Run("ip", "netns", "list").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]);
        foreach (var ns in namespaces.Concat(nodes.Select(Namespace)).Where(n => n.StartsWith("rmv-", StringComparison.Ordinal)).Distinct())
        {
            Run("ip", "netns", "del", ns);
        }
        var links = Run("ip", "-o", "link", "show").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':')[1].Trim().Split('@')[0]).Where(n => n.StartsWith("rmv-", StringComparison.Ordinal));
        foreach (var link in links) Run("ip", "link", "del", link);
        while (Run("iptables", "-D", "FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT").ExitCode == 0)
        {
            // remove every copy of the rule
        }
    }

    private static void Must(string file, params ReadOnlySpan<string> arguments)
    {
        var (code, output) = Run(file, arguments);
        if (code != 0) throw new InvalidOperationException($"`{file} {string.Join(' ', arguments)}` failed ({code}): {output.Trim()}");
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/> as its argv (no shell, no splitting of a string).</summary>
    private static (int ExitCode, string Output) Run(string file, params ReadOnlySpan<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, e.Message);
        }
    }
}
