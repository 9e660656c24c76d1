using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

using RaftMall.Harness;

namespace RaftMall.Bench;

/// <summary>
/// A 3-member etcd on 127.0.0.1 (Debian's etcd-server), fsync on as always in etcd, with the heartbeat and election
/// timeout given (etcd's defaults: 100 ms and 1000 ms).
/// </summary>
public sealed class EtcdCluster : BenchCluster
{
    public const int DefaultHeartbeatMs = 100;
    public const int DefaultElectionMs = 1_000;

    private readonly string _binary;
    private readonly int _heartbeatMs;
    private readonly int _electionMs;
    private readonly (int Client, int Peer)[] _ports;
    private readonly (int Pid, long StartTime)?[] _processes = new (int, long)?[Members];
    private readonly HttpClient _http = LoadGenerator.CreateHttpClient(4, TimeSpan.FromSeconds(2));

    public EtcdCluster(string binary, int heartbeatMs, int electionMs) : base(ScratchDirectory("etcd"))
    {
        _binary = binary;
        _heartbeatMs = heartbeatMs;
        _electionMs = electionMs;
        var ports = Processes.FreePorts(2 * Members);
        _ports = [.. Enumerable.Range(0, Members).Select(i => (ports[2 * i], ports[2 * i + 1]))];
    }

    /// <summary>etcd from PATH or /usr/bin, or null (install it: apt-get install etcd-server).</summary>
    public static string? FindBinary()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/usr/local/bin");
        return path.Select(dir => Path.Combine(dir, "etcd")).FirstOrDefault(File.Exists);
    }

    public override string Name => $"etcd (heartbeat {_heartbeatMs} ms, election {_electionMs} ms)";

    public override IReadOnlyList<Uri> ClientUrls => [.. _ports.Select(p => new Uri($"http://127.0.0.1:{p.Client}"))];

    public override BenchTarget Target => new EtcdTarget(ClientUrls, () => [.. _processes.OfType<(int Pid, long StartTime)>().Where(p => Processes.IsSame(p.Pid, p.StartTime)).Select(p => p.Pid)]);

    public override async Task StartAsync(CancellationToken token)
    {
        for (var i = 0; i < Members; i++) Launch(i, initial: true);
        await WaitHealthyAsync(TimeSpan.FromSeconds(60), token);
    }

    public override async Task<int?> LeaderAsync(CancellationToken token)
    {
        for (var i = 0; i < Members; i++)
        {
            var status = await StatusAsync(i, token);
            var self = status?["header"]?["member_id"]?.GetValue<string>();
            if (self is not null && self == status?["leader"]?.GetValue<string>()) return i;
        }
        return null;
    }

    public override async Task<MemberStatus?> MemberStatusAsync(int member, TimeSpan timeout, CancellationToken token)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(timeout);
        JsonNode? status;
        try
        {
            status = await StatusAsync(member, deadline.Token);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return null; // no answer within the timeout (e.g. the member is paused)
        }
        if (status?["header"]?["member_id"]?.GetValue<string>() is not { } self || status["raftTerm"]?.GetValue<string>() is not { } term) return null;
        var leader = status["leader"]?.GetValue<string>() is { } id && id != "0" ? id : null; // "0": no leader
        return new MemberStatus(self, self == leader, leader, long.Parse(term, CultureInfo.InvariantCulture), CaughtUp: true);
    }

    public override void Kill(int member)
    {
        if (Running(member) is { } pid) Processes.Kill(pid);
    }

    public override void Pause(int member)
    {
        if (Running(member) is not { } pid) return;
        Processes.Signal(pid, ProcessSignal.Stop);
        WaitStopped(pid, $"etcd member {member + 1}");
    }

    public override void Unpause(int member)
    {
        if (Running(member) is { } pid) Processes.Signal(pid, ProcessSignal.Continue);
    }

    private int? Running(int member) => _processes[member] is { } p && Processes.IsSame(p.Pid, p.StartTime) ? p.Pid : null;

    public override async Task RestartAsync(int member, CancellationToken token)
    {
        Launch(member, initial: false);
        await WaitHealthyAsync(TimeSpan.FromSeconds(60), token);
    }

    public override async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Members; i++) Kill(i);
        _http.Dispose();
        await Task.Yield();
        if (Environment.GetEnvironmentVariable("RAFTMALL_BENCH_KEEP") is null) System.IO.Directory.Delete(Directory, recursive: true);
    }

    private async Task<JsonNode?> StatusAsync(int member, CancellationToken token)
    {
        try
        {
            using var content = new StringContent("{}", Encoding.UTF8, "application/json");
            using var response = await _http.PostAsync(new Uri(ClientUrls[member], "/v3/maintenance/status"), content, token);
            return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync(token)) : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!token.IsCancellationRequested)
        {
            return null;
        }
    }

    private void Launch(int member, bool initial)
    {
        var names = Enumerable.Range(0, Members).Select(i => $"e{i + 1}").ToArray();
        var cluster = string.Join(',', Enumerable.Range(0, Members).Select(i => $"{names[i]}=http://127.0.0.1:{_ports[i].Peer}"));
        var (client, peer) = _ports[member];
        string[] arguments =
        [
            "--name", names[member], "--data-dir", Path.Combine(Directory, names[member]),
            "--listen-client-urls", $"http://127.0.0.1:{client}", "--advertise-client-urls", $"http://127.0.0.1:{client}",
            "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-cluster", cluster, "--initial-cluster-state", initial ? "new" : "existing", "--initial-cluster-token", "raftmall-bench",
            "--heartbeat-interval", _heartbeatMs.ToString(CultureInfo.InvariantCulture), "--election-timeout", _electionMs.ToString(CultureInfo.InvariantCulture),
            "--logger", "zap",
        ];
        var pid = Processes.StartDetached(_binary, arguments, Path.Combine(Directory, $"{names[member]}.log"), newSession: false);
        _processes[member] = (pid, Processes.StartTime(pid) ?? -1);
    }
}
