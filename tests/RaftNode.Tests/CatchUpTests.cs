using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.Tests;

/// <summary>
/// A follower whose snapshot is ahead of the leader's view of it must still accept the leader's AppendEntries and
/// InstallSnapshot (Raft: every index at or below its commit index matches). DotNext 6.12 compares a prevLogIndex inside
/// the snapshot with the snapshot's term, and rejects an InstallSnapshot at or below the commit index; RaftMall's
/// CommittedPrefixMatch fixes both in front of DotNext's handler. The test plays the leader itself, speaking DotNext's
/// wire format to one real node process, so the follower's log is exactly what the test wrote.
/// </summary>
public class CatchUpTests(ITestOutputHelper output)
{
    private const long LeaderTerm = 2;

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // DotNext's own behaviour, pinned: when an upgrade fixes it, this case fails and says so
    public async Task A_follower_accepts_appends_and_snapshots_that_start_inside_its_own_snapshot(bool unpatched)
    {
        // Long election timeouts: the node must stay a follower of the test while it plays the leader.
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string>
        {
            ["ElectionTimeoutLowerMs"] = "4000",
            ["ElectionTimeoutUpperMs"] = "5000",
            ["SnapshotIntervalEntries"] = "10",
        }, environment: unpatched ? new Dictionary<string, string> { ["RaftMall__UnpatchedCatchUp"] = "true" } : null);
        const string follower = "n2";
        cluster.Start(follower);
        var clusterId = (await cluster.WaitForStatusAsync(follower, s => s.ClusterId is not null, "answering with its identity")).ClusterId!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        // Entries 1-6 written in term 1, 7-12 in term 2, all committed: the snapshot at 10 carries term 2.
        var entries = Enumerable.Range(1, 13).Select(i => (Index: (long)i, Term: i <= 6 ? 1L : LeaderTerm)).ToList();
        var (status, answer) = await AppendAsync(http, cluster, clusterId, follower, prevIndex: 0, prevTerm: 0, entries.Take(12), commitIndex: 12);
        Assert.Equal((HttpStatusCode.OK, "ReplicatedWithLeaderTerm"), (status, answer));
        var state = await cluster.WaitForStatusAsync(follower, s => s is { AppliedIndex: >= 12, SnapshotIndex: >= 10 }, "applying 12 entries and a snapshot at 10");
        cluster.Log($"follower applied {state.AppliedIndex}, snapshot at {state.SnapshotIndex}");

        // The leader retries from inside the follower's snapshot with the true term of entry 3 (term 1).
        (status, answer) = await AppendAsync(http, cluster, clusterId, follower, prevIndex: 3, prevTerm: 1, entries.Skip(3), commitIndex: 13);
        cluster.Log($"AppendEntries after index 3 (inside the snapshot): {(int)status} {answer}");
        Assert.Equal(HttpStatusCode.OK, status);
        if (unpatched)
        {
            Assert.Equal("Rejected", answer);
        }
        else
        {
            Assert.NotEqual("Rejected", answer);
            await cluster.WaitForStatusAsync(follower, s => s is { CommitIndex: 13, AppliedIndex: 13 }, "appending and applying entry 13");
        }

        // A snapshot at 10, at or below the follower's commit index.
        (status, answer) = await InstallSnapshotAsync(http, cluster, clusterId, follower, snapshotIndex: 10);
        cluster.Log($"InstallSnapshot at 10: {(int)status} {answer}");
        Assert.Equal((HttpStatusCode.OK, unpatched ? "Rejected" : "Replicated"), (status, answer));

        var log = await File.ReadAllTextAsync(cluster.LogPath(follower));
        Assert.Equal(!unpatched, log.Contains("catch-up: AppendEntries after committed index 3", StringComparison.Ordinal));
        Assert.Equal(!unpatched, log.Contains("catch-up: InstallSnapshot at 10 is covered", StringComparison.Ordinal));
    }

    private static async Task<(HttpStatusCode, string)> AppendAsync(HttpClient http, TestCluster cluster, string clusterId, string target,
        long prevIndex, long prevTerm, IEnumerable<(long Index, long Term)> entries, long commitIndex)
    {
        var list = entries.ToList();
        var request = RaftWire.AppendEntries(cluster.Address(target), RaftWire.MemberId(cluster.Address("n1")), LeaderTerm, prevIndex, prevTerm, commitIndex,
            list.Select(e => (e.Term, Payload(e.Index))).ToList());
        return await SendAsync(http, cluster, clusterId, request);
    }

    private static async Task<(HttpStatusCode, string)> InstallSnapshotAsync(HttpClient http, TestCluster cluster, string clusterId, string target, long snapshotIndex)
    {
        var request = RaftWire.InstallSnapshot(cluster.Address(target), RaftWire.MemberId(cluster.Address("n1")), LeaderTerm, snapshotIndex,
            snapshotTerm: LeaderTerm, snapshot: "not a snapshot: a covered one is never read"u8.ToArray());
        return await SendAsync(http, cluster, clusterId, request);
    }

    /// <summary>Sent as n1 of the follower's cluster (n1 never ran, so no member id is bound to its address).</summary>
    private static async Task<(HttpStatusCode, string)> SendAsync(HttpClient http, TestCluster cluster, string clusterId, HttpRequestMessage request)
    {
        RaftWire.Identify(request, clusterId, "test-leader", cluster.Address("n1"));
        using var signed = RaftWire.Sign(request, cluster.Credentials.PeerSecret, DateTimeOffset.UtcNow);
        using var response = await http.SendAsync(signed);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An entry as a RaftMall node proposes it: proposal id (8 bytes) and the command.</summary>
    private static byte[] Payload(long index)
    {
        var command = CommandCodec.Encode(new KvPut($"catch-up/{index.ToString(CultureInfo.InvariantCulture)}", $"v{index.ToString(CultureInfo.InvariantCulture)}", null));
        var payload = new byte[8 + command.Length];
        BinaryPrimitives.WriteInt64LittleEndian(payload, index);
        command.CopyTo(payload, 8);
        return payload;
    }
}
