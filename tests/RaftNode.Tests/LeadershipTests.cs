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

        var (_, firstCommit) = await FirstCommitAfterWinningAsync(cluster, survivors);
        Assert.True(firstCommit is not null, "the new leader committed nothing within 10 s");
        Assert.True(firstCommit < TimeSpan.FromMilliseconds(heartbeatMs / 2),
            $"the new leader's first commit came {firstCommit?.TotalMilliseconds:F0} ms after it won: it waited for a heartbeat");
    }

    [Fact]
    public async Task A_leader_that_hears_from_no_majority_steps_down_within_its_step_down_window()
    {
        // Followers frozen: the leader's requests hang on open connections. DotNext alone would step down only when a
        // round times out (5 s); the quorum check resigns after leaderStepDownMs (here 250 ms: the upper election
        // timeout). The heartbeat deadline is off here: with it, DotNext's own round fails as fast, and whichever came
        // first would step down.
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
        Assert.Contains("members answered this leader within 250 ms: stepping down", await File.ReadAllTextAsync(cluster.LogPath(leader)), StringComparison.Ordinal);
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

    /// <summary>
    /// Polls <paramref name="survivors"/> until one reports itself leader, then reads from that node's own log when it
    /// won ("leader is X in term T; this node is leader") and when it committed the first entry of that term: the
    /// leader and the time between the two (null: no such commit within 10 s). Both times come from the leader's log,
    /// not from polling, which can see the leader only after its first commit and then wait for an unrelated one.
    /// </summary>
    private static async Task<(string Leader, TimeSpan? FirstCommit)> FirstCommitAfterWinningAsync(TestCluster cluster, IReadOnlyList<string> survivors)
    {
        var clock = Stopwatch.StartNew();
        string? leader = null;
        long term = 0;
        while (leader is null && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            foreach (var id in survivors)
            {
                if (await cluster.StatusAsync(id) is { Role: "leader" } status)
                {
                    (leader, term) = (id, status.Term);
                    break;
                }
            }
        }
        Assert.NotNull(leader);
        var won = $"leader is {leader} in term {term}; this node is leader";
        var committed = $"this leader committed the first entry of term {term} ";
        var waited = Stopwatch.StartNew();
        TimeOnly? wonAt = null, committedAt = null;
        while (committedAt is null && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
            (wonAt, committedAt) = LoggedAt(cluster.LogPath(leader), won, committed);
        }
        Assert.True(wonAt is not null, $"{leader}'s log has no line \"{won}\"");
        TimeSpan? firstCommit = committedAt is { } c ? (c - wonAt.Value) : null;
        cluster.Log($"{leader} won term {term} at {wonAt:HH:mm:ss.fff} by its log; first commit of its term {firstCommit?.TotalMilliseconds:F0} ms later");
        return (leader, firstCommit);
    }

    /// <summary>The times of the first lines of a node's log (console format, "HH:mm:ss.fff level: ...") that contain <paramref name="first"/> and <paramref name="second"/>, in one read.</summary>
    private static (TimeOnly? First, TimeOnly? Second) LoggedAt(string path, string first, string second)
    {
        TimeOnly? firstAt = null, secondAt = null;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        while ((firstAt is null || secondAt is null) && reader.ReadLine() is { } line)
        {
            if (!TimeOnly.TryParseExact(line.AsSpan(0, Math.Min(12, line.Length)), "HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at)) continue;
            if (firstAt is null && line.Contains(first, StringComparison.Ordinal)) firstAt = at;
            if (secondAt is null && line.Contains(second, StringComparison.Ordinal)) secondAt = at;
        }
        return (firstAt, secondAt);
    }

    [Fact]
    public async Task A_frozen_member_costs_a_new_leader_one_missed_deadline_not_one_per_request()
    {
        // Deadlines long enough to see: the survivors' pre-vote waits 600 ms for the frozen leader, and an empty
        // AppendEntries to it would wait 1,400 ms. The new leader's first round is decided only when every member
        // answered or was found unavailable (docs/dotnext.md), so if each request to the frozen member waited its
        // deadline, the first commit would come >= 1,400 ms after winning. The frozen member missed the pre-vote's
        // deadline, so it is silent: the vote and the heartbeats to it fail at once, and the first commit follows the
        // win by a round trip or two.
        const int heartbeatDeadlineMs = 1_400;
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string>
        {
            ["ElectionTimeoutLowerMs"] = "1500",
            ["ElectionTimeoutUpperMs"] = "2200",
            ["HeartbeatIntervalMs"] = "100",
            ["RaftVoteTimeoutMs"] = "600",
            ["RaftHeartbeatTimeoutMs"] = heartbeatDeadlineMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await cluster.StartAllAsync();
        var frozen = await cluster.WaitForLeaderAsync();
        var survivors = cluster.NodeIds.Where(id => id != frozen).ToList();
        cluster.Pause(frozen);
        try
        {
            var (leader, firstCommit) = await FirstCommitAfterWinningAsync(cluster, survivors);
            Assert.True(firstCommit is not null, "the new leader committed nothing within 10 s");
            Assert.True(firstCommit < TimeSpan.FromMilliseconds(heartbeatDeadlineMs / 2),
                $"{leader}'s first commit came {firstCommit?.TotalMilliseconds:F0} ms after it won: it waited on the frozen member");
            Assert.Contains("is silent", await File.ReadAllTextAsync(cluster.LogPath(leader)), StringComparison.Ordinal);
        }
        finally
        {
            cluster.Resume(frozen);
        }
        Assert.NotNull(await cluster.WaitForLeaderAsync());
    }

    /// <summary>A leader is ready (it committed an entry of its term) when it serves a linearizable read.</summary>
    private static async Task<bool> CommittedInItsTermAsync(TestCluster cluster, string leader, long term)
    {
        using var response = await cluster.SendAsync(HttpMethod.Get, leader, "/api/kv/probe");
        return response.StatusCode is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.NotFound
            && await cluster.StatusAsync(leader) is { Role: "leader" } status && status.Term == term;
    }
}
