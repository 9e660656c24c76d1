using System.Net;
using System.Net.Http.Json;

namespace RaftMall.Node.Tests;

/// <summary>One 3-node cluster and one participant shared by the transaction tests (each test uses its own gids).</summary>
public sealed class TransactionCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new(settings: new Dictionary<string, string>
    {
        ["TxnRetryInitialMs"] = "50",
        ["TxnRetryMaxMs"] = "200",
        ["TxnStuckAfterAttempts"] = "3",
        ["TxnCallTimeoutMs"] = "1000",
    });

    public TestParticipant Participant { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Participant = await TestParticipant.StartAsync();
        await Cluster.StartAllAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Participant.DisposeAsync();
    }
}

public sealed record TxnBranch(string BranchId, string Kind, string State, int Attempts, string? LastError, bool Stuck, long? OrderId);

public sealed record Txn(string Gid, string Mode, string Status, string? Decision, string? Reason, TxnBranch[] Branches);

public sealed record TxnPage(Txn[] Transactions, string? NextAfter);

/// <summary>Global transactions through real nodes and a real HTTP participant.</summary>
public class TransactionTests(TransactionCluster fixture, ITestOutputHelper output) : IClassFixture<TransactionCluster>
{
    private TestCluster Cluster => fixture.Cluster;
    private TestParticipant P => fixture.Participant;

    private object Tcc(string branchId, string service, object? payload = null, int? timeoutMs = null) => new
    {
        branchId,
        kind = "http",
        @try = P.Url(service, "try"),
        confirm = P.Url(service, "confirm"),
        cancel = P.Url(service, "cancel"),
        payload = payload ?? new { points = 10 },
        timeoutMs,
    };

    private async Task<(HttpStatusCode Status, Txn? Txn, string Text)> BeginAsync(object body, string wait = "decided", string node = "n1")
    {
        using var response = await Cluster.SendAsync(HttpMethod.Post, node, $"/api/transactions?wait={wait}", body);
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{(int)response.StatusCode} {text}");
        return (response.StatusCode, response.IsSuccessStatusCode ? System.Text.Json.JsonSerializer.Deserialize<Txn>(text, TestCluster.Json) : null, text);
    }

    private Task<Txn> GetAsync(string gid, string node = "n2") => Cluster.GetAsync<Txn>(node, $"/api/transactions/{gid}");

    private async Task<Txn> WaitForAsync(string gid, Func<Txn, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var txn = await GetAsync(gid);
            if (condition(txn)) return txn;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"transaction {gid} stayed {txn.Status}: {System.Text.Json.JsonSerializer.Serialize(txn)}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task All_tries_succeed_so_every_branch_is_confirmed_once_with_the_coordinator_headers()
    {
        var (status, txn, _) = await BeginAsync(new { gid = "ok-1", mode = "tcc", timeoutMs = 10_000, branches = new[] { Tcc("points", "loyalty"), Tcc("coupon", "coupons") } }, wait: "finished");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("committed", txn!.Status);
        Assert.Equal(["confirmed", "confirmed"], txn.Branches.Select(b => b.State));

        var calls = P.CallsFor("ok-1");
        Assert.Equal(["coupon:confirm", "coupon:try", "points:confirm", "points:try"], calls.Select(c => $"{c.Branch}:{c.Operation}").Order());
        Assert.All(calls, c => Assert.Equal(("tcc", 1), (c.Mode, c.Attempt)));
        Assert.Contains("\"points\":10", calls[0].Body, StringComparison.Ordinal);
        // every try precedes every confirm: the decision is in between
        Assert.True(calls.Where(c => c.Operation == "try").Max(c => c.At) <= calls.Where(c => c.Operation == "confirm").Min(c => c.At));
        Assert.Equal(["coupon:confirmed", "coupon:tried", "points:confirmed", "points:tried"], P.EffectsFor("ok-1").Order());

        // the same gid again is a conflict; the transaction reads the same on every node
        var (again, _, text) = await BeginAsync(new { gid = "ok-1", mode = "tcc", branches = new[] { Tcc("points", "loyalty") } });
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("transaction_exists", text, StringComparison.Ordinal);
        foreach (var node in Cluster.NodeIds) Assert.Equal("committed", (await GetAsync("ok-1", node)).Status);
    }

    [Fact]
    public async Task One_refused_try_aborts_and_cancels_every_branch_including_the_untried_one_as_an_empty_rollback()
    {
        // "c" never gets its try through (the connection drops); "b" refuses: the abort cancels all three.
        P.Rule = call => (call.Gid, call.Branch, call.Operation) switch
        {
            ("no-1", "b", "try") => Behaviour.Refuse,
            ("no-1", "c", "try") => Behaviour.Down,
            _ => Behaviour.Succeed,
        };
        var (status, txn, _) = await BeginAsync(new { gid = "no-1", mode = "tcc", timeoutMs = 10_000, branches = new[] { Tcc("a", "s1"), Tcc("b", "s2"), Tcc("c", "s3") } });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("abort", txn!.Decision);
        Assert.Contains("branch b: 409", txn.Reason, StringComparison.Ordinal);
        var done = await WaitForAsync("no-1", t => t.Status == "aborted");
        Assert.Equal(["cancelled", "cancelled", "cancelled"], done.Branches.Select(b => b.State));
        Assert.StartsWith("409", txn.Branches.Single(b => b.BranchId == "b").LastError, StringComparison.Ordinal);
        foreach (var call in P.CallsFor("no-1")) output.WriteLine($"{call.At:HH:mm:ss.fff} {call.Branch} {call.Operation} #{call.Attempt}");
        // b refused its try (did nothing) and c never got one: both cancels are empty rollbacks at the participant
        Assert.Equal(["a:cancelled", "a:tried", "b:empty-rollback", "c:empty-rollback"], P.EffectsFor("no-1").Order());
        Assert.DoesNotContain(P.CallsFor("no-1"), c => c.Operation == "confirm");
    }
}
