using System.Diagnostics;
using RaftMall.Client;
using RaftMall.Harness;

namespace RaftMall.Bench;

/// <summary>
/// A 3-member cluster that a benchmark starts for itself on free 127.0.0.1 ports in a scratch directory, can kill -9
/// and restart member by member, and removes (processes and data) when disposed.
/// </summary>
public abstract class BenchCluster(string directory) : IAsyncDisposable
{
    public const int Members = 3;

    public string Directory => directory;

    public abstract string Name { get; }

    public abstract IReadOnlyList<Uri> ClientUrls { get; }

    public abstract BenchTarget Target { get; }

    public abstract Task StartAsync(CancellationToken token);

    /// <summary>The index of the member that leads now, or null during an election.</summary>
    public abstract Task<int?> LeaderAsync(CancellationToken token);

    public abstract void Kill(int member);

    public abstract Task RestartAsync(int member, CancellationToken token);

    /// <summary>Waits until every member answers and agrees on one leader.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await AllAgreeAsync(token)) return;
            await Task.Delay(100, token);
        }
        throw new BenchException($"{Name}: the members did not agree on a leader within {timeout.TotalSeconds:0} s; logs in {directory}");
    }

    protected abstract Task<bool> AllAgreeAsync(CancellationToken token);

    public abstract ValueTask DisposeAsync();

    protected static string ScratchDirectory(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), $"raftmall-bench-{name}-{Environment.ProcessId}-{Random.Shared.Next(100_000, 999_999)}");
        System.IO.Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>
/// RaftMall nodes from a generated cluster file: every setting of the user's cluster file (timings, log, group commit,
/// limits), with its own nodes on free ports, its own data and credentials in the scratch directory, plain http, and
/// no per-client rate limit (the load generator is one client with one key).
/// </summary>
public sealed class ScratchRaftMallCluster : BenchCluster
{
    private readonly ClusterFile _cluster;
    private readonly NodeProcesses _nodes;
    private readonly string _adminKey;

    private ScratchRaftMallCluster(string directory, ClusterFile cluster, string nodeDll) : base(directory)
    {
        _cluster = cluster;
        _nodes = new NodeProcesses(cluster, nodeDll);
        _adminKey = ClusterCredentials.EnsureFor(cluster).KeyFor(ClientRole.Admin)!;
    }

    /// <summary>A cluster with the settings of <paramref name="settingsFrom"/>, run from <paramref name="nodeDll"/> (RaftNode.dll).</summary>
    public static ScratchRaftMallCluster Create(ClusterFile settingsFrom, string nodeDll)
    {
        var directory = ScratchDirectory("raftmall");
        var cluster = settingsFrom.Copy();
        var ports = Processes.FreePorts(Members);
        cluster.Nodes = [.. Enumerable.Range(0, Members).Select(i => new ClusterNode { Id = $"n{i + 1}", Address = $"http://127.0.0.1:{ports[i]}" })];
        cluster.DataDirectory = "data";
        cluster.DurableFollowerAppends = true;
        cluster.RateLimitPerSecond = 10_000_000;
        cluster.Insecure = false;
        cluster.CredentialsFile = "credentials.env";
        cluster.PeerSecret = "";
        cluster.ApiKeys = [];
        cluster.TlsCertificateFile = cluster.TlsKeyFile = cluster.TlsCaFile = "";
        cluster.Save(Path.Combine(directory, "cluster.yml"));
        return new ScratchRaftMallCluster(directory, cluster, nodeDll);
    }

    public override string Name => "raftmall";

    public ClusterFile Cluster => _cluster;

    /// <summary>The admin key of this cluster's own credentials.</summary>
    public string AdminKey => _adminKey;

    /// <summary>The node processes (pid and log files) of this cluster.</summary>
    public NodeProcesses Nodes => _nodes;

    public override IReadOnlyList<Uri> ClientUrls => [.. _cluster.Nodes.Select(n => n.Uri)];

    public override BenchTarget Target => new RaftMallTarget(_cluster, _adminKey);

    public override async Task StartAsync(CancellationToken token)
    {
        foreach (var node in _cluster.Nodes) _nodes.Start(node.Id);
        await WaitHealthyAsync(TimeSpan.FromSeconds(60), token);
    }

    public override async Task<int?> LeaderAsync(CancellationToken token)
    {
        foreach (var node in _cluster.Nodes)
        {
            var status = await StatusAsync(node.Uri, token);
            if (status is { Role: "leader" }) return _cluster.Nodes.FindIndex(n => n.Id == status.NodeId);
        }
        return null;
    }

    /// <summary>One node's status within a second, or null.</summary>
    public Task<ClusterStatus?> StatusAsync(Uri node, CancellationToken token, TimeSpan? timeout = null) =>
        RaftMallClient.TryGetClusterStatusAsync(node, _adminKey, timeout ?? TimeSpan.FromSeconds(1), _cluster.CaFilePath, token);

    public override void Kill(int member) => _nodes.Kill(_cluster.Nodes[member].Id);

    public override async Task RestartAsync(int member, CancellationToken token)
    {
        _nodes.Start(_cluster.Nodes[member].Id);
        await WaitHealthyAsync(TimeSpan.FromSeconds(60), token);
    }

    protected override async Task<bool> AllAgreeAsync(CancellationToken token)
    {
        var statuses = await Task.WhenAll(_cluster.Nodes.Select(n => StatusAsync(n.Uri, token)));
        return statuses.All(s => s is not null && s.LeaderId is not null && s.LeaderId == statuses[0]!.LeaderId && s.AppliedIndex >= s.CommitIndex);
    }

    public override ValueTask DisposeAsync()
    {
        foreach (var node in _cluster.Nodes) _nodes.Stop(node.Id, TimeSpan.FromSeconds(5));
        if (Environment.GetEnvironmentVariable("RAFTMALL_BENCH_KEEP") is null) System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
