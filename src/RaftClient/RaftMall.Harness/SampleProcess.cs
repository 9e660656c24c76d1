namespace RaftMall.Harness;

/// <summary>
/// A sample service of samples/ as a process: started with <c>dotnet</c> on its fixed 127.0.0.1 address and data
/// directory, in the caller's process group with its log in that directory, and waited for until a probe path answers.
/// It can be killed (-9) and started again on the same address and data.
/// </summary>
internal sealed class SampleProcess(string dll, string name, string dataDirectory, string logPath, Uri url, IReadOnlyList<string> arguments, string probePath)
{
    private (int Pid, long StartTime)? _process;

    public bool IsRunning => _process is { } p && Processes.IsSame(p.Pid, p.StartTime);

    public int? ProcessId => IsRunning ? _process!.Value.Pid : null;

    /// <summary>Starts the process unless it runs, and waits (30 s at most) until <c>GET probePath</c> answers 2xx.</summary>
    /// <summary>Starts a new sample service with <paramref name="start"/>; a service that fails to start is disposed, not returned.</summary>
    public static async Task<T> StartedAsync<T>(T service, Func<T, CancellationToken, Task> start, CancellationToken token)
        where T : IAsyncDisposable
    {
        try
        {
            await start(service, token);
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    public async Task StartAsync(HttpClient http, CancellationToken token)
    {
        if (IsRunning) return;
        if (!File.Exists(dll)) throw new HarnessException($"the sample {name} is not built ({dll}); run `dotnet build samples/{Path.GetFileNameWithoutExtension(dll)} -c Release` first", notBuilt: true);
        Directory.CreateDirectory(dataDirectory);
        var pid = Processes.StartDetached("dotnet", [dll, "--urls", url.ToString().TrimEnd('/'), "--data-dir", dataDirectory, .. arguments], logPath, newSession: false);
        _process = (pid, Processes.StartTime(pid) ?? -1);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (!IsRunning) throw new HarnessException($"the sample {name} exited at start; see {logPath}");
            try
            {
                using var probe = await http.GetAsync(new Uri(url, probePath), token);
                if (probe.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            if (DateTime.UtcNow > deadline) throw new HarnessException($"the sample {name} did not answer within 30 s; see {logPath}");
            await Task.Delay(100, token);
        }
    }

    /// <summary>kill -9: no flush, no goodbye.</summary>
    public void Kill()
    {
        if (IsRunning) Processes.Kill(_process!.Value.Pid);
    }
}
