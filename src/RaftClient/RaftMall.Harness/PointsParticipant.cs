using System.Net.Http.Json;
using System.Text.Json;

namespace RaftMall.Harness;

/// <summary>
/// The sample participant (samples/LoyaltyPoints) as a process on a free 127.0.0.1 port with test control on,
/// in the caller's process group with its log in its data directory, and a client for its API: accounts, effect counters,
/// hold/fail/slow rules. Used by `raftmall demo txn`, `raftmall bench-txn` and the transaction tests. Disposing kills
/// the process (its data directory stays).
/// </summary>
public sealed class PointsParticipant : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = PointsJsonContext.Default.Options;
    private readonly HttpClient _http;
    private readonly SampleProcess _process;

    private PointsParticipant(string dll, string name, string dataDirectory, int port)
    {
        Name = name;
        LogPath = Path.Combine(dataDirectory, "points.log");
        Url = new Uri($"http://127.0.0.1:{port}");
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 256 }) { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(10) };
        _process = new SampleProcess(dll, $"participant {name}", dataDirectory, LogPath, Url, ["--enable-test-control"], "/effects/probe");
    }

    public string Name { get; }

    public Uri Url { get; }

    public string LogPath { get; }

    public bool IsRunning => _process.IsRunning;

    public int? ProcessId => _process.ProcessId;

    /// <summary>The TCC endpoints of this participant, for a transaction's http branch.</summary>
    public string TryUrl => new Uri(Url, "/tcc/try").ToString();

    public string ConfirmUrl => new Uri(Url, "/tcc/confirm").ToString();

    public string CancelUrl => new Uri(Url, "/tcc/cancel").ToString();

    /// <summary>Starts the service (<paramref name="dll"/>: LoyaltyPoints.dll) and waits until it answers.</summary>
    public static async Task<PointsParticipant> StartAsync(string dll, string name, string dataDirectory, CancellationToken token)
    {
        return await SampleProcess.StartedAsync(new PointsParticipant(dll, name, dataDirectory, Processes.FreePorts(1)[0]), (started, t) => started.RestartAsync(t), token);
    }

    /// <summary>Starts the process again on the same port and data directory (after <see cref="Kill"/>) and waits until it answers.</summary>
    public Task RestartAsync(CancellationToken token) => _process.StartAsync(_http, token);

    /// <summary>kill -9: no flush, no goodbye (the journal is fsync'd per commit, so nothing acknowledged is lost).</summary>
    public void Kill() => _process.Kill();

    public async Task<PointsAccount> SetAccountAsync(string account, long points, CancellationToken token = default)
    {
        using var response = await _http.PutAsJsonAsync(new Uri($"/accounts/{Uri.EscapeDataString(account)}", UriKind.Relative), new PointsBalance(points), PointsJsonContext.Default.PointsBalance, token);
        return await ReadAsync<PointsAccount>(response, token);
    }

    public async Task<PointsAccount> GetAccountAsync(string account, CancellationToken token = default)
    {
        using var response = await _http.GetAsync(new Uri($"/accounts/{Uri.EscapeDataString(account)}", UriKind.Relative), token);
        return await ReadAsync<PointsAccount>(response, token);
    }

    /// <summary>Effects applied per gid (only gids with at least one effect or empty rollback appear).</summary>
    public async Task<Dictionary<string, PointsEffects>> GetEffectsAsync(CancellationToken token = default)
    {
        using var response = await _http.GetAsync(new Uri("/effects", UriKind.Relative), token);
        return await ReadAsync<Dictionary<string, PointsEffects>>(response, token);
    }

    /// <summary>Adds a test-control rule (action: hold, fail or slow) and returns its id.</summary>
    public async Task<int> AddRuleAsync(string operation, string action, string? branch = null, string? gid = null, int delayMs = 0, CancellationToken token = default)
    {
        using var response = await _http.PostAsJsonAsync(new Uri("/test-control/rules", UriKind.Relative), new PointsRule(operation, action, branch, gid, delayMs), PointsJsonContext.Default.PointsRule, token);
        return (await ReadAsync<JsonElement>(response, token)).GetProperty("id").GetInt32();
    }

    public async Task RemoveRuleAsync(int id, CancellationToken token = default)
    {
        using var response = await _http.DeleteAsync(new Uri($"/test-control/rules/{id}", UriKind.Relative), token);
    }

    /// <summary>Removes every hold rule and lets the held calls proceed.</summary>
    public async Task ReleaseAsync(CancellationToken token = default)
    {
        using var response = await _http.PostAsync(new Uri("/test-control/release", UriKind.Relative), null, token);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>How many calls this process has held since it started.</summary>
    public async Task<long> HeldTotalAsync(CancellationToken token = default)
    {
        using var response = await _http.GetAsync(new Uri("/test-control", UriKind.Relative), token);
        return (await ReadAsync<JsonElement>(response, token)).GetProperty("heldTotal").GetInt64();
    }

    /// <summary>Waits until at least <paramref name="count"/> calls have been held since start; false on timeout.</summary>
    public async Task<bool> WaitHeldAsync(long count, TimeSpan timeout, CancellationToken token = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await HeldTotalAsync(token) >= count) return true;
            await Task.Delay(20, token);
        }
        return false;
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken token)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new HarnessException($"participant {Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}");
        }
        return (await response.Content.ReadFromJsonAsync((System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Json.GetTypeInfo(typeof(T)), token))!;
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _http.Dispose();
        await Task.CompletedTask;
    }
}

/// <summary>An account of the sample participant.</summary>
public sealed record PointsAccount(string Name, long Available, long Frozen, long Spent);

/// <summary>How often each effect took place at the sample participant for one gid.</summary>
public sealed record PointsEffects(int Tries, int Confirms, int Cancels, int EmptyRollbacks);

/// <summary>The payload of a points branch: which account, how many points.</summary>
public sealed record PointsPayload(string Account, long Points)
{
    /// <summary>As a branch payload (source-generated JSON, no reflection).</summary>
    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, PointsJsonContext.Default.PointsPayload);
}

/// <summary>The body of a balance set.</summary>
public sealed record PointsBalance(long Points);

/// <summary>The body of a test-control rule: what the sample does to matching calls.</summary>
public sealed record PointsRule(string Operation, string Action, string? Branch, string? Gid, int DelayMs);

/// <summary>Source-generated JSON for the sample participant's control API (web defaults; no reflection).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(PointsPayload))]
[System.Text.Json.Serialization.JsonSerializable(typeof(PointsBalance))]
[System.Text.Json.Serialization.JsonSerializable(typeof(PointsRule))]
[System.Text.Json.Serialization.JsonSerializable(typeof(PointsAccount))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, PointsEffects>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
public sealed partial class PointsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
