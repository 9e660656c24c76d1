using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace RaftMall.Configuration;

/// <summary>
/// cluster.yml: the members of a cluster and its timings, read by every node and by the CLI.
/// Paths in it are relative to the file's own directory.
/// </summary>
public sealed partial class ClusterFile
{
    /// <summary>Where nodes keep their logs and snapshots: &lt;dataDirectory&gt;/&lt;node id&gt;.</summary>
    public string DataDirectory { get; set; } = ".data";

    /// <summary>
    /// A follower that hears no leader for a random time between these two bounds starts an election. The upper bound
    /// must stay clearly below twice the lower one (see <see cref="ElectionTimeoutProblem"/>).
    /// </summary>
    public int ElectionTimeoutLowerMs { get; set; } = 200;

    /// <inheritdoc cref="ElectionTimeoutLowerMs"/>
    public int ElectionTimeoutUpperMs { get; set; } = 250;

    /// <summary>How often the leader sends heartbeats; must be well under the lower election timeout.</summary>
    public int HeartbeatIntervalMs { get; set; } = 50;

    /// <summary>
    /// Take a snapshot of the state machine (and compact the log) after this many applied entries, where an entry of
    /// batched writes (group commit) counts as many entries as it holds writes.
    /// </summary>
    public int SnapshotIntervalEntries { get; set; } = 100_000;

    /// <summary>Size of one write-ahead log file. Fixed once a node's log exists.</summary>
    public int LogChunkSizeMiB { get; set; } = 8;

    /// <summary>
    /// Where the write-ahead log keeps entries before a flush: <c>private</c> memory written to the log files with
    /// synchronous writes (the default), or <c>shared</c>: the log files mapped into memory and flushed with msync.
    /// Both flush before a write counts; private memory avoids the page-table work of msync.
    /// </summary>
    public string LogMemory { get; set; } = "private";

    /// <summary>
    /// A follower flushes appended entries before it acknowledges them. Only tests that demonstrate the
    /// durability gap of DotNext 6.12 turn this off.
    /// </summary>
    public bool DurableFollowerAppends { get; set; } = true;

    /// <summary>
    /// Group commit: the leader puts up to this many client writes that arrive while an entry replicates into one log
    /// entry (each keeps its own idempotency key and answer). 1 proposes every write as an entry of its own.
    /// </summary>
    public int MaxWritesPerEntry { get; set; } = 256;

    /// <summary>
    /// Deadline of one pre-vote or vote request to a peer, in ms; 0 leaves DotNext's single Raft RPC timeout (5 s) to
    /// every message type. Without it a candidate waits on a black-holed or frozen peer until that timeout, because
    /// DotNext's pre-vote waits for every member (docs/dotnext.md, "Elections and timeouts").
    /// </summary>
    public int RaftVoteTimeoutMs { get; set; } = 100;

    /// <summary>
    /// Deadline of one empty AppendEntries (a heartbeat) to a peer, in ms; 0 leaves DotNext's 5 s. A new leader's
    /// first round is empty, and DotNext decides it only once every member answered or was found unavailable: without
    /// this deadline one frozen or black-holed member keeps every new leader from committing (docs/dotnext.md,
    /// "Elections and timeouts"). Requests that carry entries are not affected.
    /// </summary>
    public int RaftHeartbeatTimeoutMs { get; set; } = 150;

    /// <summary>
    /// Deadline of one AppendEntries request to a peer, in ms; 0 leaves DotNext's 5 s. A leader cut off from its
    /// followers steps down only when a round fails, so this bounds how long it keeps believing it leads; too short,
    /// and a loaded follower's slow flush makes a healthy leader step down. Measure before you lower it.
    /// </summary>
    public int RaftAppendTimeoutMs { get; set; }

    /// <summary>
    /// A peer that let a Raft request go unanswered (a deadline passed, or it could not be reached) is silent: requests
    /// to it fail at once until it answers a liveness probe (<c>GET /health/live</c>), sent every this many ms; 0 turns
    /// this off, and every request waits its own deadline. DotNext decides some replication rounds only when every
    /// member answered, and while a round waits, no member gets a new request: one frozen member held each such round
    /// for its whole deadline (docs/dotnext.md, "A frozen member holds every undecided round").
    /// </summary>
    public int SilentPeerProbeMs { get; set; } = 50;

    /// <summary>
    /// A leader that has heard no answer from a majority of the members (itself included) for this long, in ms, steps
    /// down (etcd's CheckQuorum). Without it, a leader cut off from the others believes it leads until one of its
    /// rounds times out (DotNext's 5 s), and clients that reach it wait. 0 (the default) means the upper election
    /// timeout, as etcd's CheckQuorum uses its election timeout: by then the others' timers have run out too.
    /// </summary>
    public int LeaderStepDownMs { get; set; }

    /// <summary><see cref="LeaderStepDownMs"/> with its default applied.</summary>
    [YamlIgnore]
    public int EffectiveLeaderStepDownMs => LeaderStepDownMs > 0 ? LeaderStepDownMs : ElectionTimeoutUpperMs;

    /// <summary>
    /// Export metrics: Prometheus text at /metrics (a reader key), and over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is
    /// set (docs/observability.md). On by default; off only to measure what they cost.
    /// </summary>
    public bool Metrics { get; set; } = true;

    /// <summary>
    /// Also export HttpClient's metrics (http.client.*): every Raft RPC, forwarded write and participant call. Off by
    /// default: they record every Raft RPC, and cost throughput under load (docs/benchmarks.md, "Metrics overhead").
    /// </summary>
    public bool MetricsHttpClient { get; set; }

    /// <summary>
    /// Serve an interactive page over the OpenAPI document at /scalar (Scalar: its scripts, favicon and styles from the
    /// node itself, no web fonts, no telemetry). Off by default; the document at /openapi/v1.json is always served.
    /// </summary>
    public bool OpenApiUi { get; set; }

    /// <summary>How long a write waits for a leader during an election before it answers 503.</summary>
    public int LeaderWaitMs { get; set; } = 3_000;

    /// <summary>How long a write waits for its entry to commit and apply before it answers 503 (outcome unknown).</summary>
    public int WriteTimeoutMs { get; set; } = 5_000;

    /// <summary>How often the leader looks for due orders, tokens and transactions.</summary>
    public int ExpiryTickMs { get; set; } = 250;

    /// <summary>Transaction coordinator: default timeout of one participant call (a branch may set its own).</summary>
    public int TxnCallTimeoutMs { get; set; } = 5_000;

    /// <summary>Transaction coordinator: first and largest wait between retries of a participant call (doubling in between).</summary>
    public int TxnRetryInitialMs { get; set; } = 100;

    public int TxnRetryMaxMs { get; set; } = 10_000;

    /// <summary>Transaction coordinator: a phase-2 branch that failed this many attempts is marked stuck (and still retried).</summary>
    public int TxnStuckAfterAttempts { get; set; } = 10;

    /// <summary>Transaction coordinator: most calls in flight to one participant (host:port), so a slow one cannot take every slot.</summary>
    public int TxnMaxCallsPerParticipant { get; set; } = 64;

    /// <summary>
    /// The outbox's bound: how many of the newest events are kept. Below it, events stay until every push
    /// subscription has acknowledged them; at it, the oldest event is dropped and a subscription that had not
    /// acknowledged it is suspended (docs/messages.md). Part of the replicated state's rules: every node of a cluster
    /// must have the same value.
    /// </summary>
    public int RetainedEvents { get; set; } = 100_000;

    /// <summary>Push subscriptions: first and largest wait between failed deliveries of a batch (doubling in between); a stuck subscription is retried at the largest.</summary>
    public int SubscriptionRetryInitialMs { get; set; } = 100;

    public int SubscriptionRetryMaxMs { get; set; } = 10_000;

    /// <summary>Push subscriptions: how often the leader records acknowledged positions and failed attempts in the log (one entry for every subscription).</summary>
    public int SubscriptionCommitMs { get; set; } = 100;

    /// <summary>
    /// How often the leader puts a state check in the log (0: never): every replica hashes its whole state there, and
    /// <c>GET /api/cluster/state-checks</c> lists the hashes, which must be equal at equal indexes. Costs one hash of the
    /// whole state per node per check.
    /// </summary>
    public int StateCheckIntervalMs { get; set; } = 10_000;

    /// <summary>
    /// Adding a member: replication rounds the leader gives a new node to catch up with the log before it counts as a
    /// voter; a node still behind after them is not added (DotNext's warm-up rounds).
    /// </summary>
    public int MembershipWarmupRounds { get; set; } = 10;

    /// <summary>
    /// The bootstrap list: the members of a new cluster, written into each node's persisted configuration on its first
    /// start. After that the active Raft configuration (changed through the membership API) is what counts.
    /// </summary>
    public List<ClusterNode> Nodes { get; set; } = [];

    /// <summary>The absolute path of the file this was read from (empty when built in code).</summary>
    [YamlIgnore]
    public string SourcePath { get; set; } = "";

    public ClusterNode Node(string id) =>
        Nodes.Find(n => string.Equals(n.Id, id, StringComparison.Ordinal))
        ?? throw new ClusterFileException($"node '{id}' is not in {Describe()}; its nodes are: {string.Join(", ", Nodes.Select(n => n.Id))}");

    /// <summary>The data directory of one node, absolute.</summary>
    public string NodeDataDirectory(string id) => Path.Combine(DataRoot(), id);

    /// <summary>The directory that holds every node's data directory (dataDirectory, relative to the cluster file).</summary>
    public string DataRoot() => Path.GetFullPath(Path.IsPathRooted(DataDirectory) || SourcePath.Length == 0
        ? DataDirectory
        : Path.Combine(Path.GetDirectoryName(SourcePath)!, DataDirectory));

    public static ClusterFile Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath)) throw new ClusterFileException($"cluster file {fullPath} does not exist");
        var file = Parse(File.ReadAllText(fullPath), fullPath);
        file.SourcePath = fullPath;
        return file;
    }

    /// <summary>A copy of every setting that can be changed without touching this one (its nodes and keys are copied too).</summary>
    public ClusterFile Copy()
    {
        var copy = (ClusterFile)MemberwiseClone();
        copy.Nodes = [.. Nodes.Select(n => n.Copy())];
        copy.ApiKeys = [.. ApiKeys.Select(k => k.Copy())];
        return copy;
    }

    /// <summary>
    /// Writes this model as a cluster file at <paramref name="path"/> (every setting, so nothing newly added is dropped)
    /// and makes it this model's <see cref="SourcePath"/>. Validated first: a file that nodes would refuse is not written.
    /// </summary>
    public void Save(string path)
    {
        Validate(path);
        var serializer = new StaticSerializerBuilder(new ClusterYamlContext())
            .WithNamingConvention(CamelCaseNamingConvention.Instance)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections)
            .Build();
        var fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        File.WriteAllText(fullPath, serializer.Serialize(this));
        SourcePath = fullPath;
    }

    public static ClusterFile Parse(string yaml, string nameForErrors = "cluster.yml")
    {
        var deserializer = new StaticDeserializerBuilder(new ClusterYamlContext()).WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        ClusterFile? file;
        try
        {
            file = deserializer.Deserialize<ClusterFile>(yaml);
        }
        catch (YamlException e)
        {
            throw new ClusterFileException($"{nameForErrors}: line {e.Start.Line}: {e.InnerException?.Message ?? e.Message}", e);
        }
        file ??= new ClusterFile();
        file.Validate(nameForErrors);
        return file;
    }

    /// <summary>
    /// Why the election timeouts can split a vote, or null. In DotNext a member grants a (pre-)vote only once it has
    /// not heard a leader for its own timeout, and a member whose pre-vote failed waits the same timeout again instead
    /// of drawing a new one. So when a leader dies, the survivor with the shorter timeout t1 is refused, and the one
    /// with the longer timeout t2 (at most the upper bound) wins at t2, unless the first one's second try, no earlier
    /// than 2 × t1 (at least 2 × the lower bound) plus its failed pre-vote, lands while the second one's pre-vote and
    /// vote are still running: both become candidates in one term and split the vote (a failover twice as long). With
    /// the leader black-holed, pre-vote and vote each wait up to the vote deadline for it. They cannot overlap when
    /// upper + max(vote deadline, lower / 10) ≤ 2 × lower; the lower / 10 is the margin of a vote round on a healthy
    /// network. docs/dotnext.md, "Elections and timeouts", has the derivation.
    /// </summary>
    public string? ElectionTimeoutProblem()
    {
        if (ElectionTimeoutLowerMs < 10 || ElectionTimeoutUpperMs <= ElectionTimeoutLowerMs)
            return "electionTimeoutLowerMs must be at least 10 and below electionTimeoutUpperMs";
        var margin = Math.Max(RaftVoteTimeoutMs, ElectionTimeoutLowerMs / 10);
        if (ElectionTimeoutUpperMs + margin > 2 * ElectionTimeoutLowerMs)
        {
            return $"electionTimeoutUpperMs ({ElectionTimeoutUpperMs}) + {margin} must not exceed 2 × electionTimeoutLowerMs ({2 * ElectionTimeoutLowerMs}): "
                + $"two members could time out together and split the vote (the {margin} ms is the larger of raftVoteTimeoutMs and a tenth of the lower "
                + $"timeout); e.g. electionTimeoutUpperMs: {2 * ElectionTimeoutLowerMs - margin} or less";
        }
        return null;
    }

    public void Validate(string nameForErrors = "cluster.yml")
    {
        var problems = new List<string>();
        if (Nodes.Count == 0) problems.Add("it lists no nodes");
        if (ElectionTimeoutProblem() is { } timeouts) problems.Add(timeouts);
        if (HeartbeatIntervalMs <= 0 || HeartbeatIntervalMs >= ElectionTimeoutLowerMs) problems.Add("heartbeatIntervalMs must be positive and below electionTimeoutLowerMs");
        if (RaftVoteTimeoutMs < 0 || RaftVoteTimeoutMs > 5_000) problems.Add("raftVoteTimeoutMs must be 0 (off) or up to 5000");
        if (RaftAppendTimeoutMs != 0 && (RaftAppendTimeoutMs <= HeartbeatIntervalMs || RaftAppendTimeoutMs > 5_000))
            problems.Add("raftAppendTimeoutMs must be 0 (off), or above heartbeatIntervalMs and up to 5000");
        if (SilentPeerProbeMs < 0 || SilentPeerProbeMs > 5_000) problems.Add("silentPeerProbeMs must be 0 (off) or up to 5000");
        if (RaftHeartbeatTimeoutMs < 0 || RaftHeartbeatTimeoutMs >= EffectiveLeaderStepDownMs)
            problems.Add("raftHeartbeatTimeoutMs must be 0 (off), or below the leader step-down window (leaderStepDownMs; by default electionTimeoutUpperMs)");
        if (LeaderStepDownMs != 0 && (LeaderStepDownMs < ElectionTimeoutUpperMs || LeaderStepDownMs > 60_000))
            problems.Add("leaderStepDownMs must be 0 (electionTimeoutUpperMs), or between electionTimeoutUpperMs and 60000");
        if (SnapshotIntervalEntries < 10) problems.Add("snapshotIntervalEntries must be at least 10");
        if (LogChunkSizeMiB is < 1 or > 1024) problems.Add("logChunkSizeMiB must be between 1 and 1024");
        if (LogMemory is not ("private" or "shared")) problems.Add($"logMemory must be private or shared, not '{LogMemory}'");
        if (MaxWritesPerEntry is < 1 or > 1024) problems.Add("maxWritesPerEntry must be between 1 and 1024");
        if (MembershipWarmupRounds is < 1 or > 10_000) problems.Add("membershipWarmupRounds must be between 1 and 10000");
        if (LeaderWaitMs < 0 || WriteTimeoutMs < 100 || ExpiryTickMs < 10) problems.Add("leaderWaitMs, writeTimeoutMs and expiryTickMs must be sensible (>= 0, >= 100, >= 10)");
        if (TxnCallTimeoutMs < 10 || TxnRetryInitialMs < 1 || TxnRetryMaxMs < TxnRetryInitialMs || TxnStuckAfterAttempts < 1 || TxnMaxCallsPerParticipant < 1)
        {
            problems.Add("txnCallTimeoutMs (>= 10), txnRetryInitialMs (>= 1) <= txnRetryMaxMs, txnStuckAfterAttempts (>= 1) and txnMaxCallsPerParticipant (>= 1) must be sensible");
        }
        if (RetainedEvents is < 10 or > 10_000_000) problems.Add("retainedEvents must be between 10 and 10000000");
        if (StateCheckIntervalMs != 0 && StateCheckIntervalMs is < 100 or > 3_600_000) problems.Add("stateCheckIntervalMs must be 0 (off) or between 100 and 3600000");
        if (SubscriptionRetryInitialMs < 1 || SubscriptionRetryMaxMs < SubscriptionRetryInitialMs || SubscriptionCommitMs is < 1 or > 60_000)
        {
            problems.Add("subscriptionRetryInitialMs (>= 1) <= subscriptionRetryMaxMs, and subscriptionCommitMs (1..60000) must be sensible");
        }
        if (RateLimitPerSecond < 1 || MaxConcurrentRequests < 1) problems.Add("rateLimitPerSecond and maxConcurrentRequests must be at least 1");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var addresses = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in Nodes)
        {
            if (string.IsNullOrWhiteSpace(node.Id) || !node.Id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                problems.Add($"node id '{node.Id}' must be letters, digits, - or _");
            }
            else if (!ids.Add(node.Id))
            {
                problems.Add($"node id '{node.Id}' appears twice");
            }
            if (!Uri.TryCreate(node.Address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                problems.Add($"node '{node.Id}': address '{node.Address}' must be like http://127.0.0.1:7101");
            }
            else if (!addresses.Add(uri.GetLeftPart(UriPartial.Authority)))
            {
                problems.Add($"node '{node.Id}': address {node.Address} is used twice");
            }
        }
        if (problems.Count > 0) throw new ClusterFileException($"{nameForErrors} is not valid: {string.Join("; ", problems)}");
    }

    private string Describe() => SourcePath.Length > 0 ? SourcePath : "the cluster file";
}

/// <summary>One member: its id and the address that serves both the API and Raft.</summary>
public sealed class ClusterNode
{
    public string Id { get; set; } = "";

    /// <summary>Base URL of the node, e.g. http://127.0.0.1:7101; peers and clients both use it.</summary>
    public string Address { get; set; } = "";

    [YamlIgnore]
    public Uri Uri => new(Address);

    /// <summary>A copy of every property, including ones added later.</summary>
    internal ClusterNode Copy() => (ClusterNode)MemberwiseClone();
}

/// <summary>cluster.yml is missing, malformed or inconsistent.</summary>
public sealed class ClusterFileException : Exception
{
    public ClusterFileException() { }
    public ClusterFileException(string message) : base(message) { }
    public ClusterFileException(string message, Exception inner) : base(message, inner) { }
}
