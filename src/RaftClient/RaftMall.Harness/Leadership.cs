namespace RaftMall.Harness;

/// <summary>Waiting for a cluster to have one leader, from the status answers of its nodes.</summary>
public static class Leadership
{
    /// <summary>
    /// The one leader that every answering node of <paramref name="nodes"/> names, once all of them answer and agree
    /// (and it is not <paramref name="not"/>); null when that does not happen within <paramref name="timeout"/>.
    /// </summary>
    public static Task<string?> WaitForOneLeaderAsync(
        Func<string, CancellationToken, Task<ClusterStatus?>> status, IReadOnlyCollection<string> nodes, TimeSpan timeout,
        string? not = null, CancellationToken token = default) => WaitForOneLeaderAsync(status, () => nodes, timeout, not, token);

    /// <summary>
    /// The one leader named by at least <paramref name="quorum"/> answering nodes of <paramref name="nodes"/>, every
    /// answering one agreeing (a node that does not answer is allowed); null after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string?> WaitForLeaderOfQuorumAsync(
        Func<string, CancellationToken, Task<ClusterStatus?>> status, IReadOnlyCollection<string> nodes, int quorum, TimeSpan timeout,
        CancellationToken token = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var answering = (await Task.WhenAll(nodes.Select(n => status(n, token))).ConfigureAwait(false)).OfType<ClusterStatus>().ToList();
            if (OneLeader(answering) is { } leader && answering.Count >= quorum) return leader;
            if (DateTime.UtcNow >= deadline) return null;
            await Task.Delay(100, token).ConfigureAwait(false);
        }
    }

    /// <summary>The leader every status names when exactly one of them is leader; else null.</summary>
    private static string? OneLeader(IReadOnlyCollection<ClusterStatus> statuses)
    {
        var leaders = statuses.Where(s => s.Role == "leader").Select(s => s.NodeId).Distinct().ToList();
        return leaders.Count == 1 && statuses.All(s => s.LeaderId == leaders[0]) ? leaders[0] : null;
    }

    /// <summary>As above, with the nodes to ask looked up at every round (e.g. the ones running now).</summary>
    public static async Task<string?> WaitForOneLeaderAsync(
        Func<string, CancellationToken, Task<ClusterStatus?>> status, Func<IEnumerable<string>> nodes, TimeSpan timeout,
        string? not = null, CancellationToken token = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var statuses = await Task.WhenAll(nodes().Select(n => status(n, token))).ConfigureAwait(false);
            if (statuses.All(s => s is not null) && OneLeader(statuses!) is { } leader && leader != not) return leader;
            if (DateTime.UtcNow >= deadline) return null;
            await Task.Delay(50, token).ConfigureAwait(false);
        }
    }
}
