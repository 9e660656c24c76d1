using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using DotNet.Testcontainers.Networks;
using RaftMall.Harness;

namespace RaftMall.Node.ContainerTests;

/// <summary>
/// A cluster for one test: a user-defined docker network and one container of the node image per node, each
/// advertising http://&lt;id&gt;:7101 on that network and published on a port of 127.0.0.1, the only way the test
/// reaches it. Faults go through the engine's API: SIGKILL, start, network disconnect and connect.
/// Disposing removes the containers and the network (Testcontainers' reaper is off: it would need a registry).
/// </summary>
public sealed class ContainerCluster : IAsyncDisposable
{
    public const int NodePort = 7101;

    private static readonly TimeSpan LeaderTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReadRetryBudget = TimeSpan.FromSeconds(15);
    private const int LogLinesOnDispose = 25;

    private readonly ITestOutputHelper _output;
    private readonly INetwork _network;
    private readonly Dictionary<string, IContainer> _containers = [];
    // Read by concurrent writers while the test changes them.
    private readonly ConcurrentDictionary<string, Uri> _addresses = new();
    private readonly ConcurrentDictionary<string, bool> _reachable = new();
    private readonly DockerClient _docker;
    private readonly string _prefix = "raftmall-ct-" + Guid.NewGuid().ToString("N")[..8];

    private ContainerCluster(ITestOutputHelper output, int nodes)
    {
        _output = output;
        NodeIds = [.. Enumerable.Range(1, nodes).Select(i => $"n{i}")];
        _network = new NetworkBuilder().WithName(_prefix).Build();
        _docker = TestcontainersSettings.OS.DockerEndpointAuthConfig.GetDockerClientBuilder(Guid.NewGuid()).Build();
        Http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1), UseProxy = false })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _adminKey);
    }

    // Credentials as a deployment passes them: environment variables of each container (compose: env_file).
    private readonly string _peerSecret = "rmp_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private readonly string _adminKey = "rma_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static JsonSerializerOptions Json => NodeRequests.Json;

    public IReadOnlyList<string> NodeIds { get; }

    public HttpClient Http { get; }

    /// <summary>Nodes whose container runs and is on the network, so the test can reach them.</summary>
    public IReadOnlyList<string> Reachable => [.. NodeIds.Where(_reachable.ContainsKey)];

    public Uri Address(string nodeId) => _addresses[nodeId];

    /// <summary>Creates the network, starts every node's container and waits for a leader.</summary>
    public static async Task<ContainerCluster> StartAsync(ITestOutputHelper output, int nodes = 3)
    {
        DockerProbe.EnsureAvailable();
        var cluster = new ContainerCluster(output, nodes);
        try
        {
            await cluster._network.CreateAsync();
            foreach (var id in cluster.NodeIds) cluster._containers[id] = cluster.BuildNode(id);
            await Task.WhenAll(cluster._containers.Values.Select(c => c.StartAsync()));
            foreach (var id in cluster.NodeIds) await cluster.MarkReachableAsync(id);
            cluster.Log($"network {cluster._prefix}; " + string.Join(", ", cluster.NodeIds.Select(id => $"{id} at {cluster.Address(id)}")));
            await cluster.WaitForLeaderAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private IContainer BuildNode(string id)
    {
        var builder = new ContainerBuilder(DockerProbe.Image)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithName($"{_prefix}-{id}")
            .WithNetwork(_network)
            .WithNetworkAliases(id)
            .WithPortBinding(NodePort, assignRandomHostPort: true)
            // Testcontainers publishes on every interface; the test only ever needs loopback.
            .WithCreateParameterModifier(p =>
            {
                var bindings = p.HostConfig?.PortBindings?.Values.SelectMany(b => b ?? []) ?? [];
                foreach (var binding in bindings) binding.HostIP = "127.0.0.1";
            })
            .WithEnvironment("RaftMall__Node", id)
            .WithEnvironment("RaftMall__PeerSecret", _peerSecret)
            .WithEnvironment("RaftMall__ApiKeys__0__Name", "admin")
            .WithEnvironment("RaftMall__ApiKeys__0__Role", "admin")
            .WithEnvironment("RaftMall__ApiKeys__0__Key", _adminKey)
            .WithEnvironment("Logging__LogLevel__Microsoft.AspNetCore", "Warning");
        for (var i = 0; i < NodeIds.Count; i++)
        {
            builder = builder
                .WithEnvironment($"RaftMall__Nodes__{i}__Id", NodeIds[i])
                .WithEnvironment($"RaftMall__Nodes__{i}__Address", $"http://{NodeIds[i]}:{NodePort}");
        }
        return builder.Build();
    }

    /// <summary>SIGKILL of the node's container: no flush, no goodbye.</summary>
    public async Task KillAsync(string nodeId)
    {
        _reachable.TryRemove(nodeId, out _);
        await _docker.Containers.KillContainerAsync(_containers[nodeId].Id, new ContainerKillParameters { Signal = "KILL" });
        Log($"killed {nodeId}");
    }

    /// <summary>Starts a killed node's container again (same container, same disk).</summary>
    public async Task StartAsync(string nodeId)
    {
        await _docker.Containers.StartContainerAsync(_containers[nodeId].Id, new ContainerStartParameters());
        await MarkReachableAsync(nodeId);
        Log($"started {nodeId} again, at {Address(nodeId)}");
    }

    /// <summary>Takes the node off the cluster network: it can reach no peer, and its published port goes away too.</summary>
    public async Task DisconnectAsync(string nodeId)
    {
        _reachable.TryRemove(nodeId, out _);
        await _docker.Networks.DisconnectNetworkAsync(_network.Name, new NetworkDisconnectParameters { Container = _containers[nodeId].Id, Force = true });
        Log($"disconnected {nodeId} from {_network.Name}");
    }

    /// <summary>Puts the node back on the network under its alias; Docker publishes it on a new host port.</summary>
    public async Task ConnectAsync(string nodeId)
    {
        await _docker.Networks.ConnectNetworkAsync(_network.Name, new NetworkConnectParameters
        {
            Container = _containers[nodeId].Id,
            EndpointConfig = new EndpointSettings { Aliases = [nodeId] },
        });
        await MarkReachableAsync(nodeId);
        Log($"reconnected {nodeId}, now at {Address(nodeId)}");
    }

    /// <summary>The host port is read from the engine each time: it changes when a container rejoins a network.</summary>
    private async Task MarkReachableAsync(string nodeId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var inspect = await _docker.Containers.InspectContainerAsync(_containers[nodeId].Id);
            if (inspect.NetworkSettings?.Ports?.TryGetValue($"{NodePort}/tcp", out var bindings) == true && bindings is { Count: > 0 })
            {
                var binding = bindings[0];
                Assert.Equal("127.0.0.1", binding.HostIP);
                _addresses[nodeId] = new Uri($"http://127.0.0.1:{binding.HostPort}");
                _reachable[nodeId] = true;
                return;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{nodeId} has no published port for {NodePort}");
            await Task.Delay(50);
        }
    }

    public async Task<ClusterStatus?> StatusAsync(string nodeId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return await Http.GetFromJsonAsync<ClusterStatus>(new Uri(Address(nodeId), "/api/cluster"), Json, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Waits until every reachable node answers and names the same leader, one of them (the harness's rule); returns its id.</summary>
    public async Task<string> WaitForLeaderAsync(string? not = null)
    {
        var seen = new ConcurrentDictionary<string, ClusterStatus?>(); // the last answers, for the log and the failure
        var leader = await Leadership.WaitForOneLeaderAsync(async (id, _) => seen[id] = await StatusAsync(id), () => Reachable, LeaderTimeout, not);
        var last = string.Join("; ", seen.Where(s => s.Value is not null).Select(s => $"{s.Key}: {s.Value!.Role} term {s.Value.Term} leader {s.Value.LeaderId ?? "-"}"));
        if (leader is null) throw new TimeoutException($"no single leader{(not is null ? "" : $" other than {not}")} within {LeaderTimeout.TotalSeconds:F0} s; last seen: {last}");
        Log($"leader {leader} (term {seen.Values.Max(s => s?.Term)}), seen by {string.Join(", ", Reachable)}");
        return leader;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string nodeId, string path, object? body = null, string? idempotencyKey = null) =>
        NodeRequests.SendAsync(Http, Address(nodeId), method, path, body, idempotencyKey);

    /// <summary>
    /// A read through one node. Right after a fault a node may fail a read (no leader yet, or the leader not yet
    /// reachable for the read barrier): such failures (5xx, no connection) are logged and retried for a bounded time.
    /// </summary>
    public async Task<T> GetAsync<T>(string nodeId, string path)
    {
        var deadline = DateTime.UtcNow + ReadRetryBudget;
        while (true)
        {
            string failure;
            try
            {
                using var response = await SendAsync(HttpMethod.Get, nodeId, path);
                var text = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode) return JsonSerializer.Deserialize<T>(text, Json)!;
                failure = $"{(int)response.StatusCode} {text}";
                if ((int)response.StatusCode < 500) throw new InvalidOperationException($"GET {path} on {nodeId}: {failure}");
            }
            catch (Exception e) when (e is HttpRequestException { StatusCode: null } or TaskCanceledException)
            {
                failure = e.Message;
            }
            if (DateTime.UtcNow > deadline) throw new HttpRequestException($"GET {path} on {nodeId} failed for {ReadRetryBudget.TotalSeconds:F0} s: {failure}");
            Log($"GET {path} on {nodeId}: {failure}; retrying");
            await Task.Delay(200);
        }
    }

    public void Log(string message) => _output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {message}");

    public async ValueTask DisposeAsync()
    {
        foreach (var (id, container) in _containers)
        {
            try
            {
                var (stdout, stderr) = await container.GetLogsAsync(timestampsEnabled: false);
                var lines = (stdout + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                _output.WriteLine($"--- {id}: last {Math.Min(lines.Length, LogLinesOnDispose)} of {lines.Length} log lines");
                foreach (var line in lines.TakeLast(LogLinesOnDispose)) _output.WriteLine(line);
            }
            catch (Exception e) when (e is DockerApiException or InvalidOperationException)
            {
                _output.WriteLine($"--- {id}: no logs ({e.Message})"); // it never got created
            }
            await container.DisposeAsync(); // stops and removes it
        }
        await _network.DisposeAsync();
        _docker.Dispose();
        Http.Dispose();
    }
}

