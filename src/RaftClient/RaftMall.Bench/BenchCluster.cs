using System.Collections.Concurrent;
using System.Globalization;
using RaftMall.Client;
using RaftMall.Harness;

namespace RaftMall.Bench;

/// <summary>
/// A 3-member cluster that a benchmark starts for itself on free 127.0.0.1 ports in a scratch directory (or in network
/// namespaces, to partition it), can kill -9, pause and restart member by member, and removes (processes and data) when disposed.
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

    /// <summary>What one member says of itself and the leader; null when it does not answer within <paramref name="timeout"/>.</summary>
    public abstract Task<MemberStatus?> MemberStatusAsync(int member, TimeSpan timeout, CancellationToken token);

    public abstract void Kill(int member);

    /// <summary>SIGSTOP; returns once every thread of the process has stopped.</summary>
    public abstract void Pause(int member);

    /// <summary>SIGCONT.</summary>
    public abstract void Unpause(int member);

    /// <summary>Cuts the traffic between <paramref name="member"/> and the others, both ways; this machine still reaches every member.</summary>
    public virtual void Isolate(int member) => throw new BenchException($"{Name}: its members do not run in network namespaces, so they cannot be partitioned", usage: true);

    /// <summary>Ends every partition.</summary>
    public virtual void Heal()
    {
    }

    public abstract Task RestartAsync(int member, CancellationToken token);

    /// <summary>
    /// When the surviving members noticed the leader gone and when the new leader took over, as the members' own logs
    /// say (null where a target's logs do not tell): the stages of a failover before the first write.
    /// </summary>
    public virtual FailoverStages? StagesSince(DateTime faultUtc, int newLeader, long term) => null;

    /// <summary>How long a member may take to answer while the cluster is waited for.</summary>
    private static readonly TimeSpan AgreementStatusTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Waits until every member answers, has applied what it knows committed, and agrees on one leader.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken token)
    {
        if (await WaitForOneLeaderAsync(timeout, token) is null)
        {
            throw new BenchException($"{Name}: the members did not agree on a leader within {timeout.TotalSeconds:0} s; logs in {directory}");
        }
    }

    /// <summary>
    /// Waits until every member agrees on one leader (as <see cref="WaitHealthyAsync"/>): true when
    /// <paramref name="member"/> follows it, false when it is that leader or there is no agreement within <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitFollowingAsync(int member, TimeSpan timeout, CancellationToken token) =>
        await WaitForOneLeaderAsync(timeout, token) is { } leader && leader != member;

    /// <summary>The one leader every member names, each answering and caught up (the harness's <see cref="Leadership"/> rule); null after <paramref name="timeout"/>.</summary>
    private Task<int?> WaitForOneLeaderAsync(TimeSpan timeout, CancellationToken token) =>
        WaitForLeaderAsync(Enumerable.Range(0, Members), quorum: null, AgreementStatusTimeout, caughtUp: true, timeout, token);

    /// <summary>
    /// The index of the one leader that <paramref name="members"/> agree on, through the harness's <see cref="Leadership"/>
    /// (the targets' own ids, mapped back to member indexes): every member answering, or with <paramref name="quorum"/>
    /// at least that many of the answering ones, all agreeing; with <paramref name="caughtUp"/> a member counts only
    /// once it applied what it knows committed. Null after <paramref name="timeout"/>.
    /// </summary>
    public async Task<int?> WaitForLeaderAsync(IEnumerable<int> members, int? quorum, TimeSpan statusTimeout, bool caughtUp, TimeSpan timeout, CancellationToken token)
    {
        var indexOf = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        async Task<LeaderView?> ViewAsync(string member, CancellationToken t)
        {
            var index = int.Parse(member, CultureInfo.InvariantCulture);
            if (await MemberStatusAsync(index, statusTimeout, t) is not { } status || (caughtUp && !status.CaughtUp)) return null;
            indexOf[status.Id] = index;
            return new LeaderView(status.Id, status.Leader, status.LeaderId);
        }
        List<string> names = [.. members.Select(m => m.ToString(CultureInfo.InvariantCulture))];
        var leader = quorum is { } count
            ? await Leadership.WaitForLeaderOfQuorumAsync(ViewAsync, names, count, timeout, token)
            : await Leadership.WaitForOneLeaderAsync(ViewAsync, () => names, timeout, token: token);
        return leader is null ? null : indexOf[leader];
    }

    protected static void WaitStopped(int? pid, string what)
    {
        if (pid is { } running && !Processes.WaitForStopped(running, TimeSpan.FromSeconds(5))) throw new BenchException($"{what} did not stop within 5 s of SIGSTOP");
    }

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
    private readonly NodeLog _log = new();
    private readonly string _adminKey;
    private readonly Network? _network;

    private ScratchRaftMallCluster(string directory, ClusterFile cluster, string nodeDll, Network? network) : base(directory)
    {
        _cluster = cluster;
        _network = network;
        _nodes = new NodeProcesses(cluster, nodeDll) { NamespaceOf = id => network is null ? null : Network.Namespace(id), RunFromCopy = true };
        _adminKey = ClusterCredentials.EnsureFor(cluster).KeyFor(ClientRole.Admin)!;
    }

    /// <summary>
    /// A cluster with the settings of <paramref name="settingsFrom"/>, run from <paramref name="nodeDll"/> (RaftNode.dll);
    /// with <paramref name="namespaces"/> every node runs in a network namespace of its own (10.213.0.x, as verify's),
    /// so that it can be partitioned (root, ip and iptables: see <see cref="Network.Unavailable"/>).
    /// </summary>
    public static ScratchRaftMallCluster Create(ClusterFile settingsFrom, string nodeDll, bool namespaces = false)
    {
        var directory = ScratchDirectory("raftmall");
        var cluster = settingsFrom.Copy();
        var ids = Enumerable.Range(1, Members).Select(i => $"n{i}").ToList();
        var ports = Processes.FreePorts(Members);
        // In namespaces each node has an address of its own, so one port serves them all.
        cluster.Nodes = [.. ids.Select((id, i) => new ClusterNode { Id = id, Address = namespaces ? $"http://{Network.Address(i)}:{ports[0]}" : $"http://127.0.0.1:{ports[i]}" })];
        cluster.DataDirectory = "data";
        cluster.DurableFollowerAppends = true;
        cluster.RateLimitPerSecond = 10_000_000;
        cluster.Insecure = false;
        cluster.CredentialsFile = "credentials.env";
        cluster.PeerSecret = "";
        cluster.ApiKeys = [];
        cluster.TlsCertificateFile = cluster.TlsKeyFile = cluster.TlsCaFile = "";
        cluster.Save(Path.Combine(directory, "cluster.yml"));
        return new ScratchRaftMallCluster(directory, cluster, nodeDll, namespaces ? Network.Create(ids) : null);
    }

    public override string Name => "raftmall";

    public ClusterFile Cluster => _cluster;

    /// <summary>The admin key of this cluster's own credentials.</summary>
    public string AdminKey => _adminKey;

    /// <summary>The node processes (pid and log files) of this cluster.</summary>
    public NodeProcesses Nodes => _nodes;

    public override IReadOnlyList<Uri> ClientUrls => [.. _cluster.Nodes.Select(n => n.Uri)];

    public override BenchTarget Target => new RaftMallTarget(_cluster, _adminKey);

    /// <summary>
    /// From the nodes' logs (UTC timestamps): the first "no leader ... election in progress" after the fault on any
    /// node (a follower's election timer fired), the new leader's "leader is X in term T; this node is leader", and its
    /// "committed the first entry of term T".
    /// </summary>
    public override FailoverStages? StagesSince(DateTime faultUtc, int newLeader, long term)
    {
        // The leader logs its first commit as it applies it, which can come a moment after the first write was answered.
        var logs = _cluster.Nodes.Select(n => (n.Id, _nodes.LogPath(n.Id))).ToList();
        var stages = FailoverStages.None;
        for (var waited = 0; ; waited += 50)
        {
            stages = stages.ReadOn(_log, logs, faultUtc, _cluster.Nodes[newLeader].Id, term);
            if (stages.CommittedMs is not null || waited >= 1_000) return stages;
            Thread.Sleep(50);
        }
    }

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

    public override async Task<MemberStatus?> MemberStatusAsync(int member, TimeSpan timeout, CancellationToken token) =>
        await StatusAsync(_cluster.Nodes[member].Uri, token, timeout) is { } status
            ? new MemberStatus(status.NodeId, status.Role == "leader", status.LeaderId, status.Term, CaughtUp: status.AppliedIndex >= status.CommitIndex)
            : null;

    public override void Kill(int member) => _nodes.Kill(_cluster.Nodes[member].Id);

    public override void Pause(int member)
    {
        var id = _cluster.Nodes[member].Id;
        _nodes.Pause(id);
        WaitStopped(_nodes.RunningPid(id), $"node {id}");
    }

    public override void Unpause(int member) => _nodes.Resume(_cluster.Nodes[member].Id);

    public override void Isolate(int member)
    {
        if (_network is null) base.Isolate(member);
        else _network.Partition([_cluster.Nodes[member].Id]);
    }

    public override void Heal() => _network?.Heal();

    public override async Task RestartAsync(int member, CancellationToken token)
    {
        _nodes.Start(_cluster.Nodes[member].Id);
        await WaitHealthyAsync(TimeSpan.FromSeconds(60), token);
    }

    public override ValueTask DisposeAsync()
    {
        foreach (var node in _cluster.Nodes) _nodes.Stop(node.Id, TimeSpan.FromSeconds(5));
        _network?.Dispose();
        if (Environment.GetEnvironmentVariable("RAFTMALL_BENCH_KEEP") is null) System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// What one member says of itself: its id in its cluster (RaftMall's node id, etcd's member id), whether it leads, the
/// leader it knows (null: none), its term, and whether it applied everything it knows committed (etcd: always true).
/// </summary>
public sealed record MemberStatus(string Id, bool Leader, string? LeaderId, long Term, bool CaughtUp);

/// <summary>
/// Milliseconds from a fault until a survivor noticed the leader gone, until the new leader took over, and until it
/// committed the first entry of its term (from then on it takes writes).
/// </summary>
public sealed record FailoverStages(double? DetectedMs, double? ElectedMs, double? CommittedMs)
{
    public static readonly FailoverStages None = new(null, null, null);

    /// <summary>
    /// These stages completed with the lines <paramref name="log"/> has not returned before (a reader returns each line
    /// once, so a second read adds to what the first found): <paramref name="logs"/> are the members' (id, log path),
    /// <paramref name="leaderId"/> the new leader of <paramref name="term"/>.
    /// </summary>
    public FailoverStages ReadOn(NodeLog log, IEnumerable<(string Id, string LogPath)> logs, DateTime faultUtc, string leaderId, long term)
    {
        var (detected, elected, committed) = (DetectedMs, ElectedMs, CommittedMs);
        var won = $"leader is {leaderId} in term {term.ToString(CultureInfo.InvariantCulture)}; this node is leader";
        var first = $"this leader committed the first entry of term {term.ToString(CultureInfo.InvariantCulture)} ";
        foreach (var (id, path) in logs)
        {
            foreach (var (at, message) in log.LinesSince(path, faultUtc))
            {
                var ms = Math.Round((at - faultUtc).TotalMilliseconds, 1);
                if (message.Contains("no leader (term", StringComparison.Ordinal) && (detected is null || ms < detected)) detected = ms;
                if (id != leaderId) continue;
                if (message.Contains(won, StringComparison.Ordinal)) elected ??= ms;
                if (message.Contains(first, StringComparison.Ordinal)) committed ??= ms;
            }
        }
        return new FailoverStages(detected, elected, committed);
    }
}

/// <summary>A node's log lines as (UTC time, text), read from its console format ("HH:mm:ss.fff level: ...", UTC).</summary>
/// <summary>
/// Reads the lines nodes append to their logs, each file from where the previous read ended, so that a run of many
/// failover trials reads every line once instead of each whole log per trial. Faults only move forward in time, so
/// lines passed over before one fault are never needed for a later one.
/// </summary>
public sealed class NodeLog
{
    private readonly Dictionary<string, long> _readUpTo = [];

    /// <summary>The lines of <paramref name="path"/> stamped at or after <paramref name="sinceUtc"/> that this reader has not returned before.</summary>
    public IReadOnlyList<(DateTime At, string Message)> LinesSince(string path, DateTime sinceUtc)
    {
        if (!File.Exists(path)) return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var from = _readUpTo.GetValueOrDefault(path);
        if (from > stream.Length) from = 0; // the log was started anew
        stream.Position = from;
        var bytes = new byte[stream.Length - from];
        stream.ReadExactly(bytes);
        var complete = bytes.AsSpan().LastIndexOf((byte)'\n') + 1; // a line still being written is read next time
        _readUpTo[path] = from + complete;

        var lines = new List<(DateTime, string)>();
        foreach (var line in System.Text.Encoding.UTF8.GetString(bytes, 0, complete).Split('\n'))
        {
            if (line.Length < 13 || !TimeOnly.TryParseExact(line.AsSpan(0, 12), "HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)) continue;
            // The log has times of day only: the day is the fault's, or the next one when the time is far before it.
            var at = DateTime.SpecifyKind(sinceUtc.Date + time.ToTimeSpan(), DateTimeKind.Utc);
            if (at < sinceUtc - TimeSpan.FromHours(12)) at = at.AddDays(1);
            if (at >= sinceUtc) lines.Add((at, line[13..].TrimEnd('\r')));
        }
        return lines;
    }
}
