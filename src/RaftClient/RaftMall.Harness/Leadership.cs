namespace RaftMall.Harness;

/// <summary>What one node says of leadership: its id, whether it leads, and the leader it knows (null: none).</summary>
/// <param name="NodeId">The node's id, in the same terms as <paramref name="LeaderId"/>.</param>
/// <param name="Leads">Whether the node says it is the leader.</param>
/// <param name="LeaderId">The leader the node knows, or null during an election.</param>
public sealed record LeaderView(string NodeId, bool Leads, string? LeaderId)
{
    /// <summary>A RaftMall node's view, from its status (<c>/api/cluster</c>).</summary>
    public static LeaderView Of(ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new(status.NodeId, status.Role == "leader", status.LeaderId);
    }
}

/// <summary>
/// Waiting for a cluster to have one leader, from what its nodes say: RaftMall nodes' status answers, or the views of
/// any Raft cluster (the benchmarks' etcd).
/// </summary>
public static class Leadership
{
    /// <summary>
    /// The one leader that every answering node of <paramref name="nodes"/> names, once all of them answer and agree
    /// (and it is not <paramref name="not"/>); null when that does not happen within <paramref name="timeout"/>.
    /// </summary>
    public static Task<string?> WaitForOneLeaderAsync(
        Func<string, CancellationToken, Task<ClusterStatus?>> status, IReadOnlyCollection<string> nodes, TimeSpan timeout,
        string? not = null, CancellationToken token = default) => WaitForOneLeaderAsync(Views(status), () => nodes, timeout, not, token);

    /// <summary>As above, with the nodes to ask looked up at every round (e.g. the ones running now).</summary>
    public static Task<string?> WaitForOneLeaderAsync(
        Func<string, CancellationToken, Task<ClusterStatus?>> status, Func<IEnumerable<string>> nodes, TimeSpan timeout,
        string? not = null, CancellationToken token = default) => WaitForOneLeaderAsync(Views(status), nodes, timeout, not, token);

    /// <summary>As above, from the nodes' views (null: the node does not answer, or is not ready to count).</summary>
    public static async Task<string?> WaitForOneLeaderAsync(
        Func<string, CancellationToken, Task<LeaderView?>> view, Func<IEnumerable<string>> nodes, TimeSpan timeout,
        string? not = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(nodes);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var views = await Task.WhenAll(nodes().Select(n => view(n, token))).ConfigureAwait(false);
            if (views.All(s => s is not null) && OneLeader(views!) is { } leader && leader != not) return leader;
            if (DateTime.UtcNow >= deadline) return null;
            await Task.Delay(50, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The one leader named by at least <paramref name="quorum"/> answering nodes of <paramref name="nodes"/>, every
    /// answering one agreeing (a node that does not answer is allowed); null after <paramref name="timeout"/>.
    /// </summary>
    public static Task<string?> WaitForLeaderOfQuorumAsync(
        Func<string, CancellationToken, Task<ClusterStatus?>> status, IReadOnlyCollection<string> nodes, int quorum, TimeSpan timeout,
        CancellationToken token = default) => WaitForLeaderOfQuorumAsync(Views(status), nodes, quorum, timeout, token);

    /// <summary>As above, from the nodes' views (null: the node does not answer).</summary>
    public static async Task<string?> WaitForLeaderOfQuorumAsync(
        Func<string, CancellationToken, Task<LeaderView?>> view, IReadOnlyCollection<string> nodes, int quorum, TimeSpan timeout,
        CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(nodes);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var answering = (await Task.WhenAll(nodes.Select(n => view(n, token))).ConfigureAwait(false)).OfType<LeaderView>().ToList();
            if (OneLeader(answering) is { } leader && answering.Count >= quorum) return leader;
            if (DateTime.UtcNow >= deadline) return null;
            await Task.Delay(100, token).ConfigureAwait(false);
        }
    }

    /// <summary>The leader every view names when exactly one of them leads; else null.</summary>
    private static string? OneLeader(IReadOnlyCollection<LeaderView> views)
    {
        var leaders = views.Where(s => s.Leads).Select(s => s.NodeId).Distinct().ToList();
        return leaders.Count == 1 && views.All(s => s.LeaderId == leaders[0]) ? leaders[0] : null;
    }

    private static Func<string, CancellationToken, Task<LeaderView?>> Views(Func<string, CancellationToken, Task<ClusterStatus?>> status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return async (node, token) => await status(node, token).ConfigureAwait(false) is { } answer ? LeaderView.Of(answer) : null;
    }
}
