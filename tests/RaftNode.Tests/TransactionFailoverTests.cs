using System.Net;
using System.Text.Json;

namespace RaftMall.Node.Tests;

/// <summary>A leader killed in the middle of transactions: the next leader resumes them from the log.</summary>
public class TransactionFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_new_leader_resumes_phase_one_without_aborting_and_finishes_phase_two()
    {
        await using var participant = await TestParticipant.StartAsync();
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["TxnRetryInitialMs"] = "50", ["TxnRetryMaxMs"] = "200" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.NodeIds.First(id => id != leader);

        // fo-1: its try is held for 1.5 s, so the leader dies in phase 1. fo-2: decided, but its confirm cannot get through.
        var confirmDown = true;
        participant.Delay = call => call.Gid == "fo-1" && call.Operation == "try" && call.Attempt == 1 ? TimeSpan.FromSeconds(1.5) : TimeSpan.Zero;
        participant.Rule = call => call.Gid == "fo-2" && call.Operation == "confirm" && confirmDown ? Behaviour.Down : Behaviour.Succeed;
        object Body(string gid) => new
        {
            gid,
            mode = "tcc",
            timeoutMs = 20_000,
            branches = new[] { new { branchId = "points", kind = "http", @try = participant.Url("p", "try"), confirm = participant.Url("p", "confirm"), cancel = participant.Url("p", "cancel") } },
        };
        using (var second = await cluster.SendAsync(HttpMethod.Post, follower, "/api/transactions?wait=decided", Body("fo-2")))
        {
            Assert.True(second.StatusCode == HttpStatusCode.Created, $"{second.StatusCode} {await second.Content.ReadAsStringAsync()}");
        }
        using (var first = await cluster.SendAsync(HttpMethod.Post, follower, "/api/transactions?wait=none", Body("fo-1")))
        {
            Assert.True(first.StatusCode == HttpStatusCode.Accepted, $"{first.StatusCode} {await first.Content.ReadAsStringAsync()}");
        }
        await WaitUntilAsync(() => participant.CallsFor("fo-1").Count > 0 && participant.CallsFor("fo-2").Any(c => c.Operation == "confirm"));
        cluster.Log($"killing leader {leader} with fo-1 in phase 1 and fo-2 in phase 2");
        cluster.Kill(leader);
        var next = await cluster.WaitForLeaderAsync(not: leader);
        confirmDown = false;

        var reader = cluster.NodeIds.First(id => id != leader);
        var fo1 = await WaitForAsync(cluster, reader, "fo-1", t => t.Status == "committed");
        Assert.Equal("commit", fo1.Decision); // the election did not abort it
        var fo2 = await WaitForAsync(cluster, reader, "fo-2", t => t.Status == "committed");
        Assert.Equal("confirmed", fo2.Branches.Single().State);
        cluster.Log($"new leader {next} finished both");

        // Each effect exactly once; the try of fo-1 was sent again by the new leader (idempotent at the participant).
        Assert.Equal(["points:confirmed", "points:tried"], participant.EffectsFor("fo-1").Order());
        Assert.Equal(["points:confirmed", "points:tried"], participant.EffectsFor("fo-2").Order());
        Assert.True(participant.CallsFor("fo-1").Count(c => c.Operation == "try") >= 2);
        Assert.DoesNotContain(participant.Calls, c => c.Operation == "cancel");
        foreach (var call in participant.Calls) output.WriteLine($"{call.At:HH:mm:ss.fff} {call.Gid} {call.Branch} {call.Operation} #{call.Attempt}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Delay(20);
        }
    }

    private static async Task<Txn> WaitForAsync(TestCluster cluster, string node, string gid, Func<Txn, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var txn = await cluster.GetAsync<Txn>(node, $"/api/transactions/{gid}");
            if (condition(txn)) return txn;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{gid}: {JsonSerializer.Serialize(txn)}");
            await Task.Delay(50);
        }
    }
}
