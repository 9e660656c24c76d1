using System.Net;

namespace RaftMall.Node.Tests;

/// <summary>Steps of the membership tests: change the members through the API, wait until every node sees a configuration.</summary>
internal static class MemberSteps
{
    public sealed record Answer(HttpStatusCode Status, MemberList? Members, ProblemBody? Problem);

    public static async Task<Answer> ChangeAsync(TestCluster cluster, HttpMethod method, string node, string path, object? body)
    {
        using var response = await cluster.SendAsync(method, node, path, body);
        var text = await response.Content.ReadAsStringAsync();
        cluster.Log($"{method} {path} via {node}: {(int)response.StatusCode} {text}");
        return response.IsSuccessStatusCode
            ? new Answer(response.StatusCode, System.Text.Json.JsonSerializer.Deserialize<MemberList>(text, TestCluster.Json), null)
            : new Answer(response.StatusCode, null, System.Text.Json.JsonSerializer.Deserialize<ProblemBody>(text, TestCluster.Json));
    }

    /// <summary>Removes a member, retrying while a resigned leader is replaced (503 leader_resigned) or an election runs.</summary>
    public static async Task<MemberList> RemoveAsync(TestCluster cluster, string member, string via)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var answer = await ChangeAsync(cluster, HttpMethod.Delete, via, $"/api/cluster/members/{member}", null);
            if (answer.Status == HttpStatusCode.OK) return answer.Members!;
            Assert.True(answer.Status == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline, $"remove {member}: {(int)answer.Status} {answer.Problem?.Code} {answer.Problem?.Detail}");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Adds the node at <paramref name="address"/> through <paramref name="via"/>. A 503 (no leader, or leadership lost
    /// while the add was under way: outcome unknown) is retried as its answer says: the retry of an add that did commit
    /// answers 200 with the member already there. Returns the final answer (201 or 200).
    /// </summary>
    public static async Task<Answer> AddAsync(TestCluster cluster, string address, string via)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var answer = await ChangeAsync(cluster, HttpMethod.Post, via, "/api/cluster/members", new { address });
            if (answer.Status is HttpStatusCode.Created or HttpStatusCode.OK) return answer;
            Assert.True(answer.Status == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline, $"add {address}: {(int)answer.Status} {answer.Problem?.Code} {answer.Problem?.Detail}");
            await Task.Delay(200);
        }
    }

    public static async Task WaitUntilAnswersAsync(TestCluster cluster, string node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await cluster.StatusAsync(node) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{node} does not answer; see {cluster.LogPath(node)}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until every node of <paramref name="among"/> (default: the expected members) knows exactly these members by id, and one leader among them.</summary>
    public static async Task WaitForMembersAsync(TestCluster cluster, string[] expected, string[]? among = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string last = "";
        while (true)
        {
            var views = await Task.WhenAll((among ?? expected).Select(async id => (id, status: await cluster.StatusAsync(id))));
            var ok = views.All(v => v.status is { LeaderId: not null } s && s.Members.Select(m => m.NodeId).Order(StringComparer.Ordinal).SequenceEqual(expected.Order(StringComparer.Ordinal)));
            if (ok) return;
            last = string.Join("; ", views.Select(v => $"{v.id}: {(v.status is null ? "no answer" : $"leader {v.status.LeaderId}, members {string.Join(",", v.status.Members.Select(m => m.NodeId))}")}"));
            Assert.True(DateTime.UtcNow < deadline, $"members are not {string.Join(",", expected)}: {last}");
            await Task.Delay(200);
        }
    }
}
