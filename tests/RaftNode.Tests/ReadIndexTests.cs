using System.Buffers.Binary;
using System.Net;
using RaftMall.TestSupport;

namespace RaftMall.Node.Tests;

/// <summary>
/// A follower's linearizable read asks the leader for its commit index with DotNext's <c>Synchronize</c> message. The
/// leader must confirm its leadership with a quorum round before it answers (ReadIndex), or a leader cut off from the
/// majority names a commit index the majority has long passed.
/// </summary>
public class ReadIndexTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_leader_names_its_commit_index_to_a_follower_only_after_a_majority_confirmed_its_leadership()
    {
        // A 500 ms append deadline makes the leader's round fail soon after its followers stop answering.
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["RaftAppendTimeoutMs"] = "500" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var followers = cluster.NodeIds.Where(id => id != leader).ToList();
        (await cluster.SendAsync(HttpMethod.Put, leader, "/api/kv/read-index", new { value = "1" })).EnsureSuccessStatusCode();
        var committed = (await cluster.StatusAsync(leader))!.CommitIndex;
        var sender = (await cluster.StatusAsync(followers[0]))!; // its identity, asked before it is frozen

        // DotNext's wire format as the middleware relies on it: the message type header, the leader's answer of 8 bytes.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var (status, commitIndex) = await SynchronizeAsync(http, cluster, leader, sender);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(commitIndex >= committed, $"the leader named commit index {commitIndex}, below {committed}");

        // Both followers frozen: the leader still believes it leads, but no round can reach a majority.
        foreach (var id in followers) cluster.Pause(id);
        try
        {
            (status, commitIndex) = await SynchronizeAsync(http, cluster, leader, sender);
            cluster.Log($"Synchronize to a leader without a majority: {(int)status}, commit index {commitIndex?.ToString() ?? "none"}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Null(commitIndex);
        }
        finally
        {
            foreach (var id in followers) cluster.Resume(id);
        }
        Assert.Contains("a follower's read found no quorum behind this leader", await File.ReadAllTextAsync(cluster.LogPath(leader)), StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, long? CommitIndex)> SynchronizeAsync(HttpClient http, TestCluster cluster, string leader, RaftMall.Contract.ClusterStatus sender)
    {
        var target = cluster.Address(leader);
        var from = cluster.Address(sender.NodeId);
        var request = RaftWire.Sign(RaftWire.Identify(RaftWire.Synchronize(target, RaftWire.MemberId(from), commitIndex: 0), sender.ClusterId!, sender.MemberId!, from),
            cluster.Credentials.PeerSecret, DateTimeOffset.UtcNow);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return (response.StatusCode, body.Length == sizeof(long) ? BinaryPrimitives.ReadInt64LittleEndian(body) : null);
    }
}
