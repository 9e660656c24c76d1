using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RaftMall.Harness;

/// <summary>The signals the harness sends (Linux numbers).</summary>
public enum ProcessSignal
{
    Kill = 9,
    Terminate = 15,
    Continue = 18,
    Stop = 19,
}

/// <summary>
/// Processes that outlive whoever started them: detached into their own session (setsid), stdin from /dev/null,
/// stdout and stderr appended to a log file; signalled and watched by pid. Arguments are passed as arguments (argv),
/// never spliced into a shell string: a path with a quote or a space is just a path.
/// </summary>
public static partial class Processes
{
    // The shell only redirects and detaches; the program and its arguments arrive as "$@" and the log as $RAFTMALL_LOG
    // (not passed on to the program), so nothing a caller passes is parsed by the shell.
    private const string SessionScript = "log=$RAFTMALL_LOG; unset RAFTMALL_LOG; exec setsid -- \"$@\" >> \"$log\" 2>&1 < /dev/null & echo $!";
    private const string ChildScript = "log=$RAFTMALL_LOG; unset RAFTMALL_LOG; exec \"$@\" >> \"$log\" 2>&1 < /dev/null & echo $!";

    /// <summary>
    /// Starts <paramref name="program"/> with <paramref name="arguments"/> in the background; returns its pid. With
    /// <paramref name="newSession"/> it outlives the caller's terminal and process group (nodes that `cluster up` leaves
    /// running); without, it stays in the caller's group (processes one run owns: Ctrl+C reaches them too).
    /// </summary>
    public static int StartDetached(
        string program, IEnumerable<string> arguments, string logPath, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, bool newSession = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(newSession ? SessionScript : ChildScript);
        info.ArgumentList.Add("raftmall-harness"); // $0
        info.ArgumentList.Add(program);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["RAFTMALL_LOG"] = Path.GetFullPath(logPath);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var shell = Process.Start(info) ?? throw new HarnessException("could not start /bin/sh");
        var pidText = shell.StandardOutput.ReadToEnd().Trim();
        shell.WaitForExit();
        return int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : throw new HarnessException($"could not start {program} (no pid: '{pidText}')");
    }

    /// <summary>True while <paramref name="pid"/> runs (a zombie counts as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] != "Z";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// When the process started (clock ticks since boot, /proc/pid/stat field 22), or null when it is gone: with the
    /// pid it names one process, so a pid reused by another process, or a thread id, is not taken for it.
    /// </summary>
    public static long? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd on
            if (fields[0] == "Z") return null;
            if (!File.ReadLines($"/proc/{pid}/status").Any(l => l.StartsWith("Tgid:", StringComparison.Ordinal) && l[5..].Trim() == pid.ToString(CultureInfo.InvariantCulture))) return null;
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>True while the process <paramref name="pid"/> that started at <paramref name="startTime"/> runs.</summary>
    public static bool IsSame(int pid, long startTime) => StartTime(pid) == startTime;

    /// <summary>The process's command line, arguments separated by spaces ("" when it is gone).</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone.</summary>
    public static bool Signal(int pid, ProcessSignal signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid); // kill(0) and kill(-1) would reach whole groups
        return SysKill(pid, (int)signal) == 0;
    }

    /// <summary>Waits until the process is gone; false when it still runs after <paramref name="timeout"/>.</summary>
    public static bool WaitForExit(int pid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (IsAlive(pid))
        {
            if (clock.Elapsed > timeout) return false;
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>
    /// Waits until every thread of the process is stopped (state T, after SIGSTOP): the signal is only queued when
    /// kill() returns, and a thread still running could answer a request meanwhile. False after <paramref name="timeout"/>.
    /// </summary>
    public static bool WaitForStopped(int pid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!AllThreadsStopped(pid))
        {
            if (clock.Elapsed > timeout || !IsAlive(pid)) return false;
            Thread.Sleep(1);
        }
        return true;
    }

    private static bool AllThreadsStopped(int pid)
    {
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                if (stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] is not ("T" or "t")) return false;
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // a thread that just ended, or the process is gone
        }
    }

    /// <summary>SIGTERM (a graceful stop), then SIGKILL when it has not exited within <paramref name="grace"/>.</summary>
    public static void Stop(int pid, TimeSpan grace)
    {
        Signal(pid, ProcessSignal.Continue); // a paused process cannot handle SIGTERM
        Signal(pid, ProcessSignal.Terminate);
        if (WaitForExit(pid, grace)) return;
        Signal(pid, ProcessSignal.Kill);
        WaitForExit(pid, TimeSpan.FromSeconds(5));
    }

    /// <summary>SIGKILL, and wait until it is gone (up to 10 s); false when it still runs.</summary>
    public static bool Kill(int pid)
    {
        Signal(pid, ProcessSignal.Kill);
        return WaitForExit(pid, TimeSpan.FromSeconds(10));
    }

    /// <summary>Free loopback ports, found by binding to port 0.</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);
}
