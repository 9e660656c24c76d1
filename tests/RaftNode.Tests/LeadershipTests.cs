using System.Diagnostics;
using RaftMall.Contract;
using RaftMall.TestSupport;

namespace RaftMall.Node.Tests;

/// <summary>What a node does the moment it wins an election.</summary>
public class LeadershipTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_new_leader_commits_its_first_entry_without_waiting_for_the_next_heartbeat()
    {
        // A heartbeat period of 1.4 s: a leader that lets its first round fail (its followers reject the AppendEntries
        // that does not yet carry its no-op) and waits for the next heartbeat commits ~1.4 s after it won.
        const int heartbeatMs = 1_400;
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string>
        {
            ["ElectionTimeoutLowerMs"] = "1500",
            ["ElectionTimeoutUpperMs"] = "2200",
            ["HeartbeatIntervalMs"] = heartbeatMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await cluster.StartAllAsync();
        var oldLeader = await cluster.WaitForLeaderAsync();
        cluster.Kill(oldLeader);
        var survivors = cluster.NodeIds.Where(id => id != oldLeader).ToList();

        // Poll the survivors until one reports itself leader, then that one until its commit index moves.
        var clock = Stopwatch.StartNew();
        string? leader = null;
        long commitWhenWon = 0;
        var wonAt = TimeSpan.Zero;
        while (leader is null && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            foreach (var id in survivors)
            {
                if (await cluster.StatusAsync(id) is { Role: "leader" } status)
                {
                    (leader, commitWhenWon, wonAt) = (id, status.CommitIndex, clock.Elapsed);
                    break;
                }
            }
        }
        Assert.NotNull(leader);
        var committedAt = TimeSpan.Zero;
        while (clock.Elapsed - wonAt < TimeSpan.FromSeconds(10))
        {
            if (await cluster.StatusAsync(leader) is { } status && status.CommitIndex > commitWhenWon)
            {
                committedAt = clock.Elapsed;
                break;
            }
        }
        var firstCommit = committedAt - wonAt;
        cluster.Log($"{leader} won at {wonAt.TotalMilliseconds:F0} ms (commit index {commitWhenWon}); first commit of its term {firstCommit.TotalMilliseconds:F0} ms later");
        Assert.True(committedAt > TimeSpan.Zero, "the new leader committed nothing within 10 s");
        Assert.True(firstCommit < TimeSpan.FromMilliseconds(heartbeatMs / 2),
            $"the new leader's first commit came {firstCommit.TotalMilliseconds:F0} ms after it won: it waited for a heartbeat");
    }

    [Fact]
    public async Task A_leader_that_hears_from_no_majority_steps_down_within_its_step_down_window()
    {
        // Followers frozen: the leader's requests hang on open connections. DotNext alone would step down only when a
        // round times out (5 s); the quorum check resigns after leaderStepDownMs (here 500 ms: 2 x 250). The heartbeat
        // deadline is off here: with it, DotNext's own round fails as fast, and whichever came first would step down.
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["RaftHeartbeatTimeoutMs"] = "0" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var followers = cluster.NodeIds.Where(id => id != leader).ToList();
        var term = (await cluster.StatusAsync(leader))!.Term;
        foreach (var id in followers) cluster.Pause(id);
        var clock = Stopwatch.StartNew();
        try
        {
            ClusterStatus? status;
            while ((status = await cluster.StatusAsync(leader)) is { Role: "leader" } && clock.Elapsed < TimeSpan.FromSeconds(4)) await Task.Delay(10);
            var steppedDown = clock.Elapsed;
            cluster.Log($"{leader} (term {term}) stopped calling itself leader {steppedDown.TotalMilliseconds:F0} ms after its followers froze: {status?.Role ?? "no answer"}");
            Assert.True(steppedDown < TimeSpan.FromSeconds(4), $"{leader} still called itself leader 4 s after its followers froze");
            Assert.True(cluster.IsRunning(leader), $"{leader} exited when it stepped down");
            Assert.NotNull(status); // it answers, as a follower or candidate
        }
        finally
        {
            foreach (var id in followers) cluster.Resume(id);
        }
        Assert.Contains("members answered this leader within 500 ms: stepping down", await File.ReadAllTextAsync(cluster.LogPath(leader)), StringComparison.Ordinal);
        Assert.NotNull(await cluster.WaitForLeaderAsync()); // and the cluster recovers once they thaw
    }

    [Fact]
    public async Task A_frozen_leader_is_replaced_by_a_leader_that_commits()
    {
        // SIGSTOP keeps the old leader's connections open and unanswered. A new leader's first round is decided only
        // when every member answered or was found unavailable, so without a heartbeat deadline no new leader commits
        // until DotNext's 5 s RPC timeout, and the quorum check resigns each one before that.
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var frozen = await cluster.WaitForLeaderAsync();
        var survivors = cluster.NodeIds.Where(id => id != frozen).ToList();
        cluster.Pause(frozen);
        var clock = Stopwatch.StartNew();
        try
        {
            string? committedBy = null;
            while (committedBy is null && clock.Elapsed < TimeSpan.FromSeconds(4))
            {
                foreach (var id in survivors)
                {
                    if (await cluster.StatusAsync(id) is { Role: "leader", CommitIndex: var commit } status && commit > 0
                        && await CommittedInItsTermAsync(cluster, id, status.Term))
                    {
                        committedBy = id;
                    }
                }
                await Task.Delay(10);
            }
            cluster.Log($"leader {frozen} frozen; {committedBy ?? "no survivor"} committed in its own term after {clock.Elapsed.TotalMilliseconds:F0} ms");
            Assert.NotNull(committedBy);
        }
        finally
        {
            cluster.Resume(frozen);
        }
    }

    /// <summary>A leader is ready (it committed an entry of its term) when it serves a linearizable read.</summary>
    private static async Task<bool> CommittedInItsTermAsync(TestCluster cluster, string leader, long term)
    {
        using var response = await cluster.SendAsync(HttpMethod.Get, leader, "/api/kv/probe");
        return response.StatusCode is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.NotFound
            && await cluster.StatusAsync(leader) is { Role: "leader" } status && status.Term == term;
    }
}
