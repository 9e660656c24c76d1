using RaftMall.Client;
using RaftMall.Harness;

namespace RaftMall.Verify;

/// <summary>Quick looks at the cluster (with the run's admin key) for the nemesis and the settle phase: who leads, has everyone applied everything.</summary>
public sealed class Probe(IReadOnlyDictionary<string, Uri> nodes, string apiKey)
{
    public Task<ClusterStatus?> StatusAsync(string node) => RaftMallClient.TryGetClusterStatusAsync(nodes[node], apiKey, TimeSpan.FromMilliseconds(500));

    public async Task<string?> LeaderAsync(IEnumerable<string>? among = null)
    {
        var statuses = await Task.WhenAll((among ?? nodes.Keys).Select(StatusAsync));
        return statuses.FirstOrDefault(s => s?.Role == "leader")?.NodeId;
    }

    /// <summary>A leader among <paramref name="among"/> that the answering ones agree on; null after <paramref name="timeout"/>.</summary>
    public Task<string?> WaitForLeaderAsync(IEnumerable<string> among, TimeSpan timeout) =>
        Leadership.WaitForLeaderOfQuorumAsync((node, _) => StatusAsync(node), [.. among], quorum: 1, timeout);

    public async Task<bool> CommitMarkerAsync(string node)
    {
        using var client = new RaftMallClient(new RaftMallClientOptions { Endpoints = [nodes[node]], ApiKey = apiKey, RetryBudget = TimeSpan.FromSeconds(10) });
        try
        {
            await client.PutAsync("verify-marker", Guid.NewGuid().ToString("N"));
            return true;
        }
        catch (RaftMallException)
        {
            return false;
        }
    }

    /// <summary>Removes <paramref name="node"/> from the members through the others (a leader resigns first; the client retries); null when done, else why not.</summary>
    public Task<string?> RemoveMemberAsync(string node, TimeSpan timeout) =>
        ChangeMembersAsync(node, timeout, (client, token) => client.RemoveMemberAsync(node, token));

    /// <summary>Adds <paramref name="node"/> (started to join) as a member through the others; null when done, else why not.</summary>
    public Task<string?> AddMemberAsync(string node, TimeSpan timeout) =>
        ChangeMembersAsync(node, timeout, (client, token) => client.AddMemberAsync(nodes[node], token));

    /// <summary>
    /// Whether the leader's configuration holds <paramref name="node"/>; null when no leader among the others answers.
    /// A change whose first attempt ended unknown may have taken effect before the client's retry was refused (a retried
    /// removal answers 404 unknown_member): only the leader's member list tells.
    /// </summary>
    public async Task<bool?> IsMemberAsync(string node)
    {
        if (await LeaderAsync(nodes.Keys.Where(n => n != node)) is not { } leader) return null;
        using var client = new RaftMallClient(new RaftMallClientOptions { Endpoints = [nodes[leader]], ApiKey = apiKey, RetryBudget = TimeSpan.FromSeconds(2) });
        try
        {
            var members = await client.ListMembersAsync(nodes[leader]);
            return members.LeaderId == leader ? members.Members.Any(m => m.NodeId == node) : null;
        }
        catch (Exception e) when (OutcomeRules.IsAnswerOrTransportError(e))
        {
            return null;
        }
    }

    private async Task<string?> ChangeMembersAsync(string node, TimeSpan timeout, Func<RaftMallClient, CancellationToken, Task<MemberList>> change)
    {
        using var client = new RaftMallClient(new RaftMallClientOptions
        {
            Endpoints = [.. nodes.Where(n => n.Key != node).Select(n => n.Value)],
            ApiKey = apiKey,
            RetryBudget = timeout,
        });
        using var deadline = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(30));
        try
        {
            await change(client, deadline.Token);
            return null;
        }
        catch (RaftMallException e)
        {
            return $"{e.Code}: {e.Detail}";
        }
        catch (OperationCanceledException)
        {
            return $"no answer within {timeout.TotalSeconds:F0} s";
        }
    }

    /// <summary>Waits until every node answers, knows the same leader and has applied the leader's commit index.</summary>
    public async Task<bool> WaitForSettledAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var statuses = await Task.WhenAll(nodes.Keys.Select(StatusAsync));
            var leader = statuses.FirstOrDefault(s => s?.Role == "leader");
            if (leader is not null && statuses.All(s => s is not null && s.LeaderId == leader.NodeId && s.AppliedIndex >= leader.CommitIndex)) return true;
            await Task.Delay(200);
        }
        return false;
    }
}
