namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// DotNext's meters as the node exports them (docs/observability.md): which meters there are, which of their
/// instruments are worth their cost, and the name each gets. DotNext's instrument names ("response-time") say little
/// alone, so each gets a prefix after its meter: <c>dotnext.raft.client.response_time</c>.
/// </summary>
public static class ConsensusMeters
{
    private static readonly Dictionary<string, string> Prefixes = new(StringComparer.Ordinal)
    {
        ["DotNext.Net.Cluster.Consensus.Raft.Server"] = "dotnext.raft.server.",
        ["DotNext.Net.Cluster.Consensus.Raft.Client"] = "dotnext.raft.client.",
        ["DotNext.IO.WriteAheadLog"] = "dotnext.wal.",
    };

    /// <summary>
    /// The instruments exported: elections and role changes, the leader's heartbeat rounds, Raft RPC response times by
    /// message type, and WAL flush times. The per-entry counters and byte histograms, incoming heartbeats and late
    /// responses are dropped: with every DotNext instrument on, kv-put at 64 clients lost about 9 % more than with none
    /// of them (docs/benchmarks.md, "Metrics overhead"); what they count is in raftmall.log.entries and the index gauges.
    /// </summary>
    private static readonly HashSet<string> Kept = new(StringComparer.Ordinal)
    {
        "transitions-to-candidate-count", "transitions-to-leader-count", "transitions-to-follower-count",
        "broadcast-time", "response-time", "entries-flush-duration",
    };

    public static IEnumerable<string> Names => Prefixes.Keys;

    public static bool IsConsensusMeter(string meter) => Prefixes.ContainsKey(meter);

    /// <summary>The exported name of <paramref name="instrument"/> of <paramref name="meter"/>, or null when it is not exported.</summary>
    public static string? ExportName(string meter, string instrument) =>
        Prefixes.TryGetValue(meter, out var prefix) && Kept.Contains(instrument) ? prefix + instrument.Replace('-', '_') : null;
}
