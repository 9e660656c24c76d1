using RaftMall.Client;
using RaftMall.Harness;

namespace RaftMall.Node.Tests;

/// <summary>One 3-node cluster and two sample participant processes (points-a, points-b), shared by the failover tests.</summary>
public sealed class TxnFailoverCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new(settings: new Dictionary<string, string>
    {
        ["TxnRetryInitialMs"] = "50",
        ["TxnRetryMaxMs"] = "300", // a returning participant gets its call within ~0.3 s
        ["TxnCallTimeoutMs"] = "2000",
    });

    public PointsParticipant A { get; private set; } = null!;
    public PointsParticipant B { get; private set; } = null!;
    public RaftMallClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A = await PointsParticipant.StartAsync(TestPrograms.PointsDll, "points-a", Path.Combine(Cluster.Root, "points-a"), CancellationToken.None);
        B = await PointsParticipant.StartAsync(TestPrograms.PointsDll, "points-b", Path.Combine(Cluster.Root, "points-b"), CancellationToken.None);
        await Cluster.StartAllAsync();
        Client = new RaftMallClient(Cluster.ClientOptions(TimeSpan.FromSeconds(20)));
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>
/// kill -9 of the leader at each point of a TCC transaction over two real participant processes: every participant ends
/// with the same outcome and each confirm applied exactly once (the participants' own effect counters say so).
/// </summary>
public class TxnFailoverTests(TxnFailoverCluster fixture, ITestOutputHelper output) : IClassFixture<TxnFailoverCluster>
{
    private static readonly PointsEffects TriedAndConfirmedOnce = new(1, 1, 0, 0);
    private readonly TestCluster _cluster = fixture.Cluster;
    private readonly PointsParticipant _a = fixture.A;
    private readonly PointsParticipant _b = fixture.B;

    [Fact]
    public async Task Leader_killed_before_the_decision_the_new_leader_resumes_phase_1_and_commits()
    {
        var gid = await PrepareAsync("before");
        await BeginHoldingAsync(_b, "try", gid, TransactionWait.None);
        Assert.Equal("open", (await fixture.Client.GetTransactionAsync(gid)).Status);
        await KillLeaderAndReleaseAsync(_b);
        await AssertCommittedExactlyOnceAsync(gid);
    }

    [Fact]
    public async Task Leader_killed_right_after_the_decision_the_new_leader_confirms_every_branch_once()
    {
        var gid = await PrepareAsync("after");
        var decided = await BeginHoldingAsync(_a, "confirm", gid, TransactionWait.Decided);
        Assert.Equal(("commit", "committing"), (decided.Decision, decided.Status));
        await KillLeaderAndReleaseAsync(_a);
        await AssertCommittedExactlyOnceAsync(gid);
    }

    [Fact]
    public async Task Leader_killed_in_the_middle_of_phase_2_the_new_leader_confirms_the_rest_and_repeats_nothing()
    {
        var gid = await PrepareAsync("middle");
        await BeginHoldingAsync(_b, "confirm", gid, TransactionWait.Decided);
        await WaitUntilAsync(async () => (await _a.GetEffectsAsync()).GetValueOrDefault(gid) == TriedAndConfirmedOnce, "points-a confirmed");
        await KillLeaderAndReleaseAsync(_b);
        await AssertCommittedExactlyOnceAsync(gid);
    }

    [Fact]
    public async Task A_participant_down_during_phase_2_gets_its_confirm_when_it_returns()
    {
        var gid = await PrepareAsync("down");
        await BeginHoldingAsync(_a, "confirm", gid, TransactionWait.Decided);
        _a.Kill(); // the held confirm dies before it touched the store
        await Task.Delay(1_000); // the leader retries against a closed port meanwhile
        var during = await fixture.Client.GetTransactionAsync(gid);
        output.WriteLine($"while points-a is down: {during.Status}, {string.Join(", ", during.Branches.Select(b => $"{b.BranchId} {b.State} x{b.Attempts} {b.LastError}"))}");
        Assert.Equal("committing", during.Status);
        Assert.Equal("confirming", during.Branches.Single(b => b.BranchId == "a").State);
        Assert.False(_a.IsRunning);
        await _a.RestartAsync(CancellationToken.None); // same port and journal; the hold rule is gone with the process
        await AssertCommittedExactlyOnceAsync(gid);
    }

    [Fact]
    public async Task Leader_killed_during_an_abort_cancels_the_tried_branch_once_and_empty_rolls_back_the_refused_one()
    {
        var gid = await PrepareAsync("abort", bPoints: 1); // points-b refuses: too few points
        var decided = await BeginHoldingAsync(_a, "cancel", gid, TransactionWait.Decided);
        Assert.Equal("abort", decided.Decision);
        await KillLeaderAndReleaseAsync(_a);
        var txn = await WaitFinishedAsync(gid);
        Assert.Equal("aborted", txn.Status);
        Assert.Equal(new PointsEffects(1, 0, 1, 0), (await _a.GetEffectsAsync())[gid]);
        Assert.Equal(new PointsEffects(0, 0, 0, 1), (await _b.GetEffectsAsync())[gid]);
        Assert.Equal(new PointsAccount(gid, 100, 0, 0), await _a.GetAccountAsync(gid));
        Assert.Equal(new PointsAccount(gid, 1, 0, 0), await _b.GetAccountAsync(gid));
    }

    /// <summary>Begins the transaction with <paramref name="operation"/> calls to <paramref name="holder"/> held, and waits until one is.</summary>
    private async Task<GlobalTransaction> BeginHoldingAsync(PointsParticipant holder, string operation, string gid, TransactionWait wait)
    {
        var held = await holder.HeldTotalAsync();
        await holder.AddRuleAsync(operation, "hold", gid: gid);
        var txn = await fixture.Client.BeginTransactionAsync(Request(gid), wait);
        Assert.True(await holder.WaitHeldAsync(held + 1, TimeSpan.FromSeconds(10)), $"{holder.Name} never got its {operation}");
        return txn;
    }

    /// <summary>A fresh gid with an account of its own name at both participants.</summary>
    private async Task<string> PrepareAsync(string name, long bPoints = 100)
    {
        var gid = $"{name}-{Guid.NewGuid().ToString("N")[..8]}";
        await _a.SetAccountAsync(gid, 100);
        await _b.SetAccountAsync(gid, bPoints);
        return gid;
    }

    private TransactionRequest Request(string gid) => new("tcc",
    [
        TransactionBranchRequest.Tcc("a", _a.TryUrl, _a.ConfirmUrl, _a.CancelUrl, new { account = gid, points = 10 }),
        TransactionBranchRequest.Tcc("b", _b.TryUrl, _b.ConfirmUrl, _b.CancelUrl, new { account = gid, points = 10 }),
    ], gid, 30_000);

    /// <summary>kill -9 of the leader, then the held call may proceed (as a late delivery from the dead leader), then the old leader restarts.</summary>
    private async Task KillLeaderAndReleaseAsync(PointsParticipant holding)
    {
        var leader = await _cluster.WaitForLeaderAsync();
        _cluster.Kill(leader);
        _cluster.Log($"killed leader {leader}");
        await holding.ReleaseAsync();
        var next = await _cluster.WaitForLeaderAsync(not: leader);
        _cluster.Log($"new leader {next}");
        _cluster.Start(leader);
    }

    private async Task AssertCommittedExactlyOnceAsync(string gid)
    {
        var txn = await WaitFinishedAsync(gid);
        Assert.Equal("committed", txn.Status);
        Assert.Equal(TriedAndConfirmedOnce, (await _a.GetEffectsAsync())[gid]);
        Assert.Equal(TriedAndConfirmedOnce, (await _b.GetEffectsAsync())[gid]);
        Assert.Equal(new PointsAccount(gid, 90, 0, 10), await _a.GetAccountAsync(gid));
        Assert.Equal(new PointsAccount(gid, 90, 0, 10), await _b.GetAccountAsync(gid));
    }

    private async Task<GlobalTransaction> WaitFinishedAsync(string gid)
    {
        GlobalTransaction? txn = null;
        await WaitUntilAsync(async () => (txn = await fixture.Client.GetTransactionAsync(gid)).IsFinished, $"{gid} finished");
        output.WriteLine($"{gid}: {txn!.Status} ({txn.Reason}), {string.Join(", ", txn.Branches.Select(b => $"{b.BranchId} {b.State} x{b.Attempts}"))}");
        return txn;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within 30 s: {what}");
            await Task.Delay(50);
        }
    }
}
