using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using RaftMall.Client;
using RaftMall.Harness;

namespace RaftMall.TestSupport;

/// <summary>
/// A real cluster for one test: node processes on 127.0.0.1 with free ports, a fresh data directory,
/// and helpers to kill -9, restart and query them. Disposing kills every process and deletes the data.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly NodeProcesses _nodes;
    private readonly ITestOutputHelper? _output;
    private readonly Dictionary<string, string> _environment;
    private readonly Dictionary<string, Uri> _joined = [];
    private readonly string _scheme;

    public TestCluster(int nodes = 3, ITestOutputHelper? output = null, IDictionary<string, string>? settings = null, string scheme = "http", IDictionary<string, string>? environment = null)
    {
        _output = output;
        _scheme = scheme;
        _environment = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        Root = Path.Combine(Path.GetTempPath(), "raftmall-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        var ports = Processes.FreePorts(nodes);
        Settings = new Dictionary<string, string>(settings ?? new Dictionary<string, string>());
        // The test's settings as cluster.yml keys, read into the model and written back whole.
        var yaml = new List<string> { "dataDirectory: data" };
        yaml.AddRange(Settings.Select(kv => $"{char.ToLowerInvariant(kv.Key[0])}{kv.Key[1..]}: {kv.Value}"));
        yaml.Add("nodes:");
        for (var i = 0; i < nodes; i++)
        {
            yaml.Add($"  - id: n{i + 1}");
            yaml.Add($"    address: {scheme}://127.0.0.1:{ports[i]}");
        }
        ConfigPath = Path.Combine(Root, "cluster.yml");
        Cluster = ClusterFile.Parse(string.Join('\n', yaml));
        Cluster.Save(ConfigPath);
        var variables = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        };
        foreach (var (name, value) in _environment) variables[name] = value; // every node's
        _nodes = new NodeProcesses(Cluster, TestPrograms.NodeDll) { Environment = variables, NewSession = false };
        // Credentials as `raftmall cluster up` makes them: a file next to the data, read by the nodes and the CLI.
        // The keys are the same for every cluster of this process; the peer secret is not.
        Credentials = new ClusterCredentials { PeerSecret = ClusterCredentials.NewSecret("rmp_"), ApiKeys = TestKeys.All };
        if (!Settings.ContainsKey("Insecure")) Credentials.Save(Cluster.CredentialsPath);
        var ca = Cluster.CaFilePath;
        Http = new HttpClient(TrustedCertificates.Handler(ca, TimeSpan.FromSeconds(5))) { Timeout = TimeSpan.FromSeconds(15) };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestKeys.Admin);
    }

    /// <summary>The peer secret and API keys of this cluster (in credentials.env next to its data directory).</summary>
    public ClusterCredentials Credentials { get; }

    /// <summary>API keys shared by every test cluster of this process, one per role.</summary>
    public static class TestKeys
    {
        public static readonly string Admin = ClusterCredentials.NewSecret("rma_");
        public static readonly string Writer = ClusterCredentials.NewSecret("rmw_");
        public static readonly string Reader = ClusterCredentials.NewSecret("rmr_");

        public static List<ApiKeyEntry> All =>
        [
            new() { Name = "admin", Role = ClientRole.Admin, Key = Admin },
            new() { Name = "writer", Role = ClientRole.Writer, Key = Writer },
            new() { Name = "reader", Role = ClientRole.Reader, Key = Reader },
        ];
    }

    public string Root { get; }
    public string ConfigPath { get; }
    public ClusterFile Cluster { get; }
    public Dictionary<string, string> Settings { get; }
    public HttpClient Http { get; }
    /// <summary>The nodes of cluster.yml, then those started to join (<see cref="StartJoining"/>).</summary>
    public IEnumerable<string> NodeIds => Cluster.Nodes.Select(n => n.Id).Concat(_joined.Keys);

    public Uri Address(string nodeId) => _joined.TryGetValue(nodeId, out var address) ? address : Cluster.Node(nodeId).Uri;

    /// <summary>
    /// Starts a node that cluster.yml does not list, at <paramref name="address"/> (default: a free port), to join:
    /// it waits until a leader adds it (POST /api/cluster/members).
    /// </summary>
    public Uri StartJoining(string nodeId, Uri? address = null)
    {
        address ??= new Uri($"{_scheme}://127.0.0.1:{Processes.FreePorts(1)[0]}");
        _joined[nodeId] = address;
        _nodes.StartJoining(nodeId, address);
        return address;
    }

    /// <summary>Forgets a node started to join (after it was removed and killed), so waits and checks leave it out.</summary>
    public void Forget(string nodeId) => _joined.Remove(nodeId);

    /// <summary>The node's data directory (Raft log, snapshots, configuration, log file).</summary>
    public string DataDirectory(string nodeId) => Cluster.NodeDataDirectory(nodeId);

    /// <summary>Options for a client of this cluster: every node, the admin key, the cluster's CA file.</summary>
    public RaftMallClientOptions ClientOptions(TimeSpan? retryBudget = null) => new()
    {
        Endpoints = [.. Cluster.Nodes.Select(n => n.Uri)],
        ApiKey = TestKeys.Admin,
        TrustedCertificatesFile = Cluster.CaFilePath,
        RetryBudget = retryBudget ?? TimeSpan.FromSeconds(15),
    };

    public bool IsRunning(string nodeId) => _nodes.IsRunning(nodeId);

    /// <summary>The node's log (the harness's convention: node.log beside its data).</summary>
    public string LogPath(string nodeId) => _nodes.LogPath(nodeId);

    public async Task StartAllAsync(TimeSpan? leaderTimeout = null)
    {
        foreach (var id in NodeIds) Start(id);
        await WaitUntilMembersBoundAsync(await WaitForLeaderAsync(leaderTimeout));
    }

    /// <summary>
    /// Waits until <paramref name="leader"/>'s member directory binds a member id to every member (node identity). A new
    /// cluster's first leader proposes these bindings right after its election; a test that counts log entries must not
    /// race them.
    /// </summary>
    public async Task WaitUntilMembersBoundAsync(string leader)
    {
        await WaitForStatusAsync(leader, s => s.Members.Length > 0 && s.Members.All(m => m.MemberId is not null), "every member's id bound by the leader", TimeSpan.FromSeconds(15));
    }

    /// <summary>Starts a node process; <paramref name="environment"/> adds variables (e.g. another node's credentials).</summary>
    public void Start(string nodeId, IDictionary<string, string>? environment = null)
    {
        if (IsRunning(nodeId)) throw new InvalidOperationException($"{nodeId} is running");
        _nodes.Start(nodeId, environment is null ? null : new Dictionary<string, string>(environment));
    }

    /// <summary>kill -9 of every node at once: signals first, then waits, so no node outlives another by a reap.</summary>
    public void KillAll()
    {
        var running = NodeIds.Select(_nodes.RunningPid).OfType<int>().ToList();
        foreach (var pid in running) Processes.Signal(pid, ProcessSignal.Kill);
        foreach (var pid in running) Processes.WaitForExit(pid, TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM, as a service manager stops a node; SIGKILL only when it has not exited after <paramref name="grace"/>.</summary>
    public void Stop(string nodeId, TimeSpan grace) => _nodes.Stop(nodeId, grace);

    /// <summary>kill -9: no flush, no goodbye.</summary>
    public void Kill(string nodeId) => _nodes.Kill(nodeId);

    /// <summary>SIGSTOP: the process keeps its sockets open and answers nothing, like a frozen or black-holed machine.</summary>
    public void Pause(string nodeId) => _nodes.Pause(nodeId);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume(string nodeId) => _nodes.Resume(nodeId);

    public async Task<ClusterStatus?> StatusAsync(string nodeId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return await Http.GetFromJsonAsync<ClusterStatus>(new Uri(Address(nodeId), "/api/cluster"), Json, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Polls a node's status until <paramref name="condition"/> holds; throws naming <paramref name="what"/> and the last status.</summary>
    public async Task<ClusterStatus> WaitForStatusAsync(string nodeId, Func<ClusterStatus, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        ClusterStatus? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if ((last = await StatusAsync(nodeId)) is { } status && condition(status)) return status;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{nodeId}: {what} did not happen; last status: {(last is null ? "none" : JsonSerializer.Serialize(last, Json))}");
    }

    /// <summary>Waits until every running node agrees on one leader; returns its id.</summary>
    public async Task<string> WaitForLeaderAsync(TimeSpan? timeout = null, string? not = null) =>
        await Leadership.WaitForOneLeaderAsync((id, _) => StatusAsync(id), () => NodeIds.Where(IsRunning), timeout ?? TimeSpan.FromSeconds(20), not)
        ?? throw new TimeoutException($"no single leader within the timeout; running: {string.Join(", ", NodeIds.Where(IsRunning))}; "
            + string.Join("; ", NodeIds.Select(id => $"{id}: {LastLogLine(id)}")) + $"; logs in {Root}");

    private string LastLogLine(string nodeId) =>
        File.Exists(LogPath(nodeId)) ? File.ReadLines(LogPath(nodeId)).LastOrDefault() ?? "(empty log)" : "(no log)";

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string nodeId, string path, object? body = null, string? idempotencyKey = null) =>
        NodeRequests.SendAsync(Http, Address(nodeId), method, path, body, idempotencyKey);

    public async Task<T> GetAsync<T>(string nodeId, string path)
    {
        using var response = await SendAsync(HttpMethod.Get, nodeId, path);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"GET {path} on {nodeId}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<T>(text, Json)!;
    }

    public static JsonSerializerOptions Json => NodeRequests.Json;

    public void Log(string message) => _output?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {message}");

    public async ValueTask DisposeAsync()
    {
        foreach (var id in NodeIds) Kill(id);
        Http.Dispose();
        await Task.Yield();
        if (Environment.GetEnvironmentVariable("RAFTMALL_KEEP_TEST_DATA") is null)
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

}
