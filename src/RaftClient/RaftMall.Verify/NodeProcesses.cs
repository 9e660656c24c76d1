using System.Diagnostics;
using System.Globalization;

namespace RaftMall.Verify;

/// <summary>
/// The verify run's own node processes: started (optionally inside a network namespace), killed, paused and resumed
/// by pid. Each node logs to &lt;out&gt;/&lt;node&gt;.log.
/// </summary>
public sealed class NodeProcesses(string nodeDll, string configPath, string outDirectory, Func<string, string?> namespaceOf) : IDisposable
{
    private readonly Dictionary<string, int> _pids = [];
    private readonly HashSet<string> _paused = [];

    public bool IsRunning(string node) => _pids.TryGetValue(node, out var pid) && Alive(pid);

    public bool IsPaused(string node) => _paused.Contains(node);

    public void Start(string node)
    {
        if (IsRunning(node)) return;
        var log = Path.Combine(outDirectory, $"{node}.log");
        var prefix = namespaceOf(node) is { } ns ? $"ip netns exec {ns} " : "";
        var command = $"exec {prefix}dotnet '{nodeDll}' --node {node} --config '{configPath}' >> '{log}' 2>&1 < /dev/null & echo $!";
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var shell = Process.Start(info)!;
        var pid = int.Parse(shell.StandardOutput.ReadToEnd().Trim(), CultureInfo.InvariantCulture);
        shell.WaitForExit();
        _pids[node] = pid;
        _paused.Remove(node);
    }

    /// <summary>kill -9.</summary>
    public void Kill(string node)
    {
        if (!_pids.TryGetValue(node, out var pid)) return;
        if (_paused.Remove(node)) Signal(pid, "CONT");
        Signal(pid, "KILL");
        WaitForExit(pid);
    }

    /// <summary>SIGTERM: a graceful stop that flushes the log.</summary>
    public void Stop(string node)
    {
        if (!_pids.TryGetValue(node, out var pid)) return;
        if (_paused.Remove(node)) Signal(pid, "CONT");
        Signal(pid, "TERM");
        if (!WaitForExit(pid)) Signal(pid, "KILL");
        WaitForExit(pid);
    }

    public void Pause(string node)
    {
        if (!_pids.TryGetValue(node, out var pid) || !Alive(pid)) return;
        Signal(pid, "STOP");
        _paused.Add(node);
    }

    public void Resume(string node)
    {
        if (!_pids.TryGetValue(node, out var pid) || !_paused.Remove(node)) return;
        Signal(pid, "CONT");
    }

    public void Dispose()
    {
        foreach (var node in _pids.Keys.ToList()) Kill(node);
    }

    private static bool Alive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        try
        {
            return File.Exists(stat) && File.ReadAllText(stat).Split(' ')[2] != "Z";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool WaitForExit(int pid)
    {
        for (var i = 0; i < 250 && Alive(pid); i++) Thread.Sleep(20);
        return !Alive(pid);
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { UseShellExecute = false, RedirectStandardError = true });
        kill?.WaitForExit();
    }
}
