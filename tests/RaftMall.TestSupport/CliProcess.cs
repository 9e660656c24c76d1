using System.Diagnostics;

namespace RaftMall.TestSupport;

/// <summary>Runs the real raftmall tool as a process and captures what it prints.</summary>
public static class CliProcess
{
    private static readonly string Dll = TestPrograms.CliDll;

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }

    /// <summary>The built tool with <c>--config</c> <paramref name="configPath"/>.</summary>
    public static Task<Result> RunAsync(string configPath, params string[] args) => RunProgramAsync("dotnet", [Dll, .. args, "--config", configPath]);

    /// <summary>
    /// The built tool in an empty directory (no cluster.yml to find), with <paramref name="environment"/> as its only
    /// RAFTMALL_ variables: what someone without a checkout of the cluster's files runs.
    /// </summary>
    public static Task<Result> RunWithoutClusterFileAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunProgramAsync("dotnet", [Dll, .. args], environment, EmptyDirectory());

    /// <summary>Any program (an installed tool too), its RAFTMALL_ variables only those given.</summary>
    public static async Task<Result> RunProgramAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("RAFTMALL_", StringComparison.Ordinal)).ToList()) info.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        info.Environment["COLUMNS"] = "200";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }

    private static string EmptyDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "raftmall-tests", "no-cluster-file-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }
}
