using System.Diagnostics;
using System.Net;
using static RaftMall.Node.Tests.MemberSteps;

namespace RaftMall.Node.Tests;

/// <summary>
/// Node identity with real processes: a member whose data directory is deleted while clients write, restarted at its
/// old address (and, as cluster.yml lists it, bootstrapping itself again), must neither vote nor count toward a
/// commit; then it is replaced (removed, emptied, added as a new member) and ends with the same state as the others.
/// </summary>
public sealed class IdentityTests(ITestOutputHelper output)
{
    /// <summary>How long the test watches for a commit or an election that must not happen.</summary>
    private static readonly TimeSpan Watch = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_wiped_member_restarted_at_its_address_cannot_vote_or_count_and_is_replaced_as_a_new_member_with_identical_state()
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["SnapshotIntervalEntries"] = "200" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        (await cluster.SendAsync(HttpMethod.Put, leader, "/api/stock/apple", new { available = 1_000_000 })).EnsureSuccessStatusCode().Dispose();
        var bound = await WaitUntilBoundAsync(cluster);
        var wiped = cluster.NodeIds.First(id => id != leader);
        var other = cluster.NodeIds.First(id => id != leader && id != wiped);
        var wipedAddress = NodeAddress(cluster, wiped);

        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var writers = new[] { new Writer(cluster, "w-a"), new Writer(cluster, "w-b") };
        var load = writers.Select(async w =>
        {
            while (!stop.IsCancellationRequested) await w.PlaceOrderAsync("apple", clock, TimeSpan.FromSeconds(30));
        }).ToArray();
        try
        {
            await Task.Delay(500);
            // The disk dies: the data directory is gone, the node comes back at its address. cluster.yml lists it, so
            // it bootstraps itself (the case identity is for): same cluster id, a new member id.
            cluster.Kill(wiped);
            Directory.Delete(cluster.DataDirectory(wiped), recursive: true);
            cluster.Start(wiped);
            var restarted = await cluster.WaitForStatusAsync(wiped, s => s.MemberId is not null, "the wiped node answering with its new identity");
            cluster.Log($"{wiped} was member {bound[wipedAddress]}, restarted as {restarted.MemberId}");
            Assert.NotEqual(bound[wipedAddress], restarted.MemberId);

            // Refused both ways, each side saying why: its pre-votes by the others, their appends by it.
            await WaitForLogAsync(cluster, leader, $"identity: refused a PreVote from {wipedAddress} (member {restarted.MemberId}): member {restarted.MemberId} is not the member at {wipedAddress}");
            // The leader's appends reach the wiped node only while DotNext still counts it available (a failure while it
            // was down can make the leader stop sending to it), so their refusal is reported, not required; that the
            // wiped node cannot count or vote is what the next steps prove.
            var refusedAppends = await LogContainsWithinAsync(cluster, wiped, $"identity: refused a AppendEntries from {NodeAddress(cluster, leader)}", TimeSpan.FromSeconds(5));
            cluster.Log(refusedAppends ? $"{wiped} refused the leader's appends as meant for member {bound[wipedAddress]}" : $"{wiped} got no append from the leader within 5 s");
            if (refusedAppends) Assert.Contains($"the request is for member {bound[wipedAddress]} at this address", await ReadSharedAsync(cluster.LogPath(wiped)), StringComparison.Ordinal);

            // It does not count: with the other healthy member down, the leader and the wiped node are no majority.
            cluster.Kill(other);
            await Task.Delay(300); // acknowledgements already on their way when it died are counted first
            var committedBefore = (await cluster.StatusAsync(leader))!.CommitIndex;
            Assert.False(await CommitsWithinAsync(cluster, leader, Watch), "a write committed with only the leader and the wiped node running");
            var afterWatch = (await cluster.StatusAsync(leader))!;
            cluster.Log($"leader {leader}: commit index {committedBefore} before, {afterWatch.CommitIndex} after {Watch.TotalSeconds} s; wiped node applied {(await cluster.StatusAsync(wiped))?.AppliedIndex}");
            Assert.Equal(committedBefore, afterWatch.CommitIndex);
            cluster.Start(other);

            // It does not vote: with the leader down, the other healthy member cannot be elected by the wiped node's vote.
            var current = await WaitForLeaderAmongAsync(cluster, [leader, other]);
            var survivor = current == leader ? other : leader;
            cluster.Kill(current);
            Assert.False(await BecomesLeaderWithinAsync(cluster, survivor, Watch), $"{survivor} was elected with the wiped node's vote");
            cluster.Start(current);
            var healthy = await WaitForLeaderAmongAsync(cluster, [leader, other]);

            // Replace it: remove the member, empty the directory, start it to join, add it as a new member.
            await RemoveAsync(cluster, wiped, via: healthy);
            cluster.Kill(wiped);
            Directory.Delete(cluster.DataDirectory(wiped), recursive: true);
            cluster.Start(wiped, new Dictionary<string, string> { ["RaftMall__Join"] = "true" });
            var waiting = await cluster.WaitForStatusAsync(wiped, _ => true, "the emptied node answering");
            Assert.Null(waiting.MemberId); // no identity until it is added
            var added = await AddAsync(cluster, wipedAddress, via: healthy);
            Assert.Contains(added.Members!.Members, m => m.NodeId == wiped);
            var replacement = await cluster.WaitForStatusAsync(wiped, s => s.MemberId is not null && s.LeaderId is not null, "the replacement following a leader");
            Assert.NotEqual(bound[wipedAddress], replacement.MemberId);
            Assert.NotEqual(restarted.MemberId, replacement.MemberId);
            await WaitForMembersAsync(cluster, [.. cluster.NodeIds]);
            var now = await WaitUntilBoundAsync(cluster);
            Assert.Equal(replacement.MemberId, now[wipedAddress]);
            await Task.Delay(1_000); // writes go on with the replacement
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        var acked = writers.SelectMany(w => w.AckedOrders).ToList();
        cluster.Log($"{acked.Count} orders acknowledged, {writers.Sum(w => w.Unknown)} given up");
        Assert.True(acked.Count > 50, $"only {acked.Count} orders were acknowledged");
        await cluster.WaitForLeaderAsync();
        await Checks.AllAcknowledgedOrdersEverywhereAsync(cluster, acked.Select(a => a.OrderId));
        await Checks.ReplicasEqualAsync(cluster);
        await Checks.StockConservedAsync(cluster, "apple", 1_000_000);
    }

    private static string NodeAddress(TestCluster cluster, string node) => cluster.Address(node).GetLeftPart(UriPartial.Authority);

    /// <summary>Waits until every node's directory binds a member id to every member, the same everywhere; returns address to member id.</summary>
    private static async Task<Dictionary<string, string>> WaitUntilBoundAsync(TestCluster cluster)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var views = await Task.WhenAll(cluster.NodeIds.Select(cluster.StatusAsync));
            var bindings = views.Select(v => v?.Members.All(m => m.MemberId is not null) == true && v.Members.Length == cluster.NodeIds.Count()
                ? string.Join(",", v.Members.OrderBy(m => m.Address, StringComparer.Ordinal).Select(m => $"{m.Address}={m.MemberId}"))
                : null).ToList();
            if (bindings.All(b => b is not null) && bindings.Distinct().Count() == 1)
            {
                var members = views[0]!.Members;
                // Each member's binding is the identity the member itself reports.
                foreach (var view in views) Assert.Equal(view!.MemberId, members.Single(m => m.NodeId == view.NodeId).MemberId);
                return members.ToDictionary(m => m.Address, m => m.MemberId!);
            }
            Assert.True(DateTime.UtcNow < deadline, $"members not bound alike on every node: {string.Join(" | ", bindings)}");
            await Task.Delay(200);
        }
    }

    private static async Task<bool> LogContainsWithinAsync(TestCluster cluster, string node, string text, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(cluster.LogPath(node)) && (await ReadSharedAsync(cluster.LogPath(node))).Contains(text, StringComparison.Ordinal)) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private static async Task WaitForLogAsync(TestCluster cluster, string node, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!File.Exists(cluster.LogPath(node)) || !(await ReadSharedAsync(cluster.LogPath(node))).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{node}'s log has no line with \"{text}\"; see {cluster.LogPath(node)}");
            await Task.Delay(200);
        }
        cluster.Log($"{node} logged: {text}");
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>Whether a write through <paramref name="node"/> is acknowledged within <paramref name="within"/>.</summary>
    private static async Task<bool> CommitsWithinAsync(TestCluster cluster, string node, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(cluster.Address(node), "/api/kv/must-not-commit")) { Content = System.Net.Http.Json.JsonContent.Create(new { value = "x" }) };
                using var response = await cluster.Http.SendAsync(request, timeout.Token);
                cluster.Log($"write through {node}: {(int)response.StatusCode}");
                if (response.IsSuccessStatusCode) return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // no answer in time: not committed
            }
            await Task.Delay(200, CancellationToken.None);
        }
        return false;
    }

    /// <summary>Whether <paramref name="node"/> becomes leader within <paramref name="within"/>.</summary>
    private static async Task<bool> BecomesLeaderWithinAsync(TestCluster cluster, string node, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (await cluster.StatusAsync(node) is { Role: "leader" } status)
            {
                cluster.Log($"{node} leads in term {status.Term}");
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }

    /// <summary>Waits until the nodes of <paramref name="among"/> agree on a leader among themselves.</summary>
    private static async Task<string> WaitForLeaderAmongAsync(TestCluster cluster, string[] among)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var views = await Task.WhenAll(among.Select(cluster.StatusAsync));
            if (views.All(v => v?.LeaderId is not null) && views.Select(v => v!.LeaderId).Distinct().Count() == 1 && among.Contains(views[0]!.LeaderId)) return views[0]!.LeaderId!;
            Assert.True(DateTime.UtcNow < deadline, $"no leader among {string.Join(",", among)}");
            await Task.Delay(100);
        }
    }
}
