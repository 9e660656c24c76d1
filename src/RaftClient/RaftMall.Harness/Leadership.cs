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

    /// <summary>As above, with the nodes to ask looked up at every round (e.g. the ones running now).</summary>
    public static async Task<string?> WaitForOneLeaderAsync(
        Func<string, CancellationToken, Task<ClusterStatus?>> status, Func<IEnumerable<string>> nodes, TimeSpan timeout,
        string? not = null, CancellationToken token = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var statuses = await Task.WhenAll(nodes().Select(n => status(n, token))).ConfigureAwait(false);
            var leaders = statuses.Where(s => s?.Role == "leader").Select(s => s!.NodeId).Distinct().ToList();
            if (leaders.Count == 1 && leaders[0] != not && statuses.All(s => s is not null && s.LeaderId == leaders[0])) return leaders[0];
            if (DateTime.UtcNow >= deadline) return null;
            await Task.Delay(50, token).ConfigureAwait(false);
        }
    }
}
