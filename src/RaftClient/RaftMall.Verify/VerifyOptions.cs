namespace RaftMall.Verify;

/// <summary>The faults a run may inject.</summary>
public static class Nemeses
{
    public const string Kill = "kill";
    public const string Pause = "pause";
    public const string Partition = "partition";
    public const string Restart = "restart";
    public const string CrashAll = "crash-all";

    /// <summary>Replaces a follower as an operator replaces a dead disk: remove it, empty it, add it back as a new member.</summary>
    public const string Membership = "membership";

    public static readonly string[] All = [Kill, Pause, Partition, Restart, CrashAll, Membership];
}

/// <summary>What a verify run does: how long, how many clients, which faults, which seed, where the results go.</summary>
public sealed record VerifyOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    public int Clients { get; init; } = 8;
    public IReadOnlySet<string> Nemeses { get; init; } = new HashSet<string>(Verify.Nemeses.All);
    public int Seed { get; init; } = Environment.TickCount;
    public required string OutDirectory { get; init; }
    public required string NodeDll { get; init; }
    public int Nodes { get; init; } = 3;
    /// <summary>First port when the nodes listen on 127.0.0.1 (no namespaces).</summary>
    public int BasePort { get; init; } = 7301;
    public int ElectionTimeoutLowerMs { get; init; } = Defaults.ElectionTimeoutLowerMs;
    public int ElectionTimeoutUpperMs { get; init; } = Defaults.ElectionTimeoutUpperMs;
    public int HeartbeatIntervalMs { get; init; } = Defaults.HeartbeatIntervalMs;

    /// <summary>The cluster's raftVoteTimeoutMs and raftAppendTimeoutMs (0: DotNext's one RPC timeout for every message).</summary>
    public int RaftVoteTimeoutMs { get; init; } = Defaults.RaftVoteTimeoutMs;

    public int RaftAppendTimeoutMs { get; init; } = Defaults.RaftAppendTimeoutMs;

    /// <summary>A cluster file's defaults, which verify's cluster starts from.</summary>
    private static readonly RaftMall.Configuration.ClusterFile Defaults = new();
    /// <summary>Small, so snapshots and snapshot installs happen during the run.</summary>
    public int SnapshotIntervalEntries { get; init; } = 1_000;
    /// <summary>Time budget of the linearizability search over all keys.</summary>
    public TimeSpan CheckerBudget { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// Deliberately unsafe: reads use consistency=local against random nodes. Exists to show that the checker catches
    /// stale reads; never use it to judge the system.
    /// </summary>
    public bool UnsafeLocalReads { get; init; }

    /// <summary>
    /// Deliberately unsafe: every node starts with <see cref="UnsafeFollowerReadsVariable"/>=true, so a follower's
    /// linearizable read takes the leader's commit index without a quorum round (stale when the old leader is cut off
    /// with that follower). Exists to show that the checker catches stale follower reads; never use it to judge the system.
    /// </summary>
    public bool UnsafeFollowerReads { get; init; }

    /// <summary>The node setting behind <see cref="UnsafeFollowerReads"/> (RaftMall:UnsafeFollowerReads), as an environment variable.</summary>
    public const string UnsafeFollowerReadsVariable = "RaftMall__UnsafeFollowerReads";
}
