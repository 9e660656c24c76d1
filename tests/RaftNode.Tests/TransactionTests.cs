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
        var failures = (await Cluster.GetAsync<EventPageView>("n1", "/api/events?limit=1000")).Events.Where(e => e.Type == "branchFailed").Select(e => e.Detail);
        Assert.True(!failures.Any(), "phase-2 failures: " + string.Join("; ", failures));
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
        var openApi = await Cluster.Http.GetStringAsync(new Uri(Cluster.Address("n3"), "/openapi/v1.json"));
        Assert.Contains("/api/transactions/{gid}/retry", openApi, StringComparison.Ordinal);
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

    [Fact]
    public async Task A_try_that_keeps_failing_is_retried_until_the_transaction_timeout_then_everything_is_cancelled()
    {
        P.Rule = call => (call.Gid, call.Branch, call.Operation) == ("late-1", "b", "try") ? Behaviour.Fail : Behaviour.Succeed;
        var (status, txn, _) = await BeginAsync(new { gid = "late-1", mode = "tcc", timeoutMs = 1_000, branches = new[] { Tcc("a", "s1"), Tcc("b", "s2") } }, wait: "finished");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(("aborted", "abort"), (txn!.Status, txn.Decision));
        var tries = P.CallsFor("late-1").Where(c => (c.Branch, c.Operation) == ("b", "try")).ToList();
        Assert.True(tries.Count >= 3, $"{tries.Count} tries of b within the timeout");
        Assert.Equal(Enumerable.Range(1, tries.Count), tries.Select(c => c.Attempt)); // 1-based, counted per operation
        Assert.Equal(["a:cancelled", "a:tried", "b:empty-rollback"], P.EffectsFor("late-1").Order());
    }

    [Fact]
    public async Task Two_phase_commit_prepares_then_commits_every_branch()
    {
        object Branch(string id) => new { branchId = id, kind = "http", prepare = P.Url(id, "prepare"), commit = P.Url(id, "commit"), rollback = P.Url(id, "rollback") };
        var (status, txn, _) = await BeginAsync(new { gid = "2pc-1", mode = "2pc", branches = new[] { Branch("db1"), Branch("db2") } }, wait: "finished");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("committed", txn!.Status);
        var calls = P.CallsFor("2pc-1");
        Assert.Equal(["db1:commit", "db1:prepare", "db2:commit", "db2:prepare"], calls.Select(c => $"{c.Branch}:{c.Operation}").Order());
        Assert.All(calls, c => Assert.Equal("2pc", c.Mode));
    }

    [Fact]
    public async Task A_saga_whose_third_step_refuses_compensates_the_second_then_the_first()
    {
        P.Rule = call => (call.Gid, call.Branch, call.Operation) == ("saga-1", "s3", "action") ? Behaviour.Refuse : Behaviour.Succeed;
        object Step(string id) => new { branchId = id, kind = "http", action = P.Url(id, "action"), compensate = P.Url(id, "compensate") };
        var (_, txn, _) = await BeginAsync(new { gid = "saga-1", mode = "saga", branches = new[] { Step("s1"), Step("s2"), Step("s3"), Step("s4") } }, wait: "finished");
        Assert.Equal("aborted", txn!.Status);
        Assert.Equal(["cancelled", "cancelled", "skipped", "cancelled"], txn.Branches.Select(b => b.State));
        // actions in order, stopping at the refusal; s4 never acted, so its compensation is an empty one
        Assert.Equal(["s1:action", "s2:action", "s3:action", "s4:compensate", "s2:compensate", "s1:compensate"],
            P.CallsFor("saga-1").Select(c => $"{c.Branch}:{c.Operation}"));
    }

    [Fact]
    public async Task A_participant_down_in_phase_two_is_marked_stuck_listed_retried_and_confirmed_once_it_returns()
    {
        var down = true;
        P.Rule = call => down && call.Gid == "down-1" && call.Operation == "confirm" && call.Branch == "b" ? Behaviour.Down : Behaviour.Succeed;
        var (_, txn, _) = await BeginAsync(new { gid = "down-1", mode = "tcc", branches = new[] { Tcc("a", "s1"), Tcc("b", "s2") } });
        Assert.Equal("commit", txn!.Decision);
        var stuck = await WaitForAsync("down-1", t => t.Branches.Single(b => b.BranchId == "b").Stuck);
        Assert.Equal("committing", stuck.Status);
        Assert.Equal("confirmed", stuck.Branches.Single(b => b.BranchId == "a").State);
        Assert.True(stuck.Branches.Single(b => b.BranchId == "b").Attempts >= 3);
        Assert.NotNull(stuck.Branches.Single(b => b.BranchId == "b").LastError);
        var page = await Cluster.GetAsync<TxnPage>("n3", "/api/transactions?stuck=true");
        Assert.Contains(page.Transactions, t => t.Gid == "down-1");

        // A retry asked for while the participant is still down is accepted (the transaction is unfinished). Backoff is
        // capped (200 ms here): it keeps trying, and once the participant is back the next attempt gets through. The
        // retry is asked for before the participant returns: after, the driver may finish first and the answer is 409.
        using var retry = await Cluster.SendAsync(HttpMethod.Post, "n2", "/api/transactions/down-1/retry");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        down = false;
        var done = await WaitForAsync("down-1", t => t.Status == "committed", TimeSpan.FromSeconds(5));
        Assert.All(done.Branches, b => Assert.False(b.Stuck));
        Assert.Equal(["a:confirmed", "a:tried", "b:confirmed", "b:tried"], P.EffectsFor("down-1").Order());
        Assert.DoesNotContain((await Cluster.GetAsync<TxnPage>("n1", "/api/transactions?stuck=true")).Transactions, t => t.Gid == "down-1");
        using var late = await Cluster.SendAsync(HttpMethod.Post, "n1", "/api/transactions/down-1/retry");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task A_slow_participant_does_not_stall_other_transactions()
    {
        await using var slow = await TestParticipant.StartAsync();
        slow.Delay = _ => TimeSpan.FromSeconds(3);
        var slowTxn = BeginAsync(new
        {
            gid = "slow-1",
            mode = "tcc",
            timeoutMs = 20_000,
            branches = new[] { new { branchId = "s", kind = "http", @try = slow.Url("s", "try"), confirm = slow.Url("s", "confirm"), cancel = slow.Url("s", "cancel"), timeoutMs = 5_000 } },
        });
        await Task.Delay(200);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var fast = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => BeginAsync(new { gid = $"fast-{i}", mode = "tcc", branches = new[] { Tcc("a", "s1") } }, wait: "finished")));
        Assert.All(fast, f => Assert.Equal("committed", f.Txn!.Status));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"20 fast transactions took {clock.Elapsed} next to a slow one");
        Assert.Equal("open", (await GetAsync("slow-1")).Status);
        Assert.Equal("commit", (await slowTxn).Txn!.Decision);
    }

    [Fact]
    public async Task Built_in_stock_and_order_branches_keep_stock_conserved_and_emit_events()
    {
        Assert.Equal(HttpStatusCode.OK, (await Cluster.SendAsync(HttpMethod.Put, "n1", "/api/stock/txn-apple", new { available = 10 })).StatusCode);
        var after = (await Cluster.GetAsync<EventPageView>("n1", "/api/events?limit=1")).LastSequence;
        object Checkout(string gid, int quantity) => new
        {
            gid,
            mode = "tcc",
            branches = new object[]
            {
                Tcc("points", "loyalty"),
                new { branchId = "lock", kind = "stock", sku = "txn-apple", quantity },
                new { branchId = "order", kind = "order", userId = "alice", items = new[] { new { sku = "txn-apple", quantity = 1 } } },
            },
        };
        var (_, ok, _) = await BeginAsync(Checkout("shop-1", 2), wait: "finished");
        Assert.Equal("committed", ok!.Status);
        var orderId = ok.Branches.Single(b => b.BranchId == "order").OrderId!.Value;
        Assert.Equal("paid", (await Cluster.GetAsync<Order>("n2", $"/api/orders/{orderId}")).Status);
        Assert.Equal(new StockLevel("txn-apple", 7, 0, 3), await Cluster.GetAsync<StockLevel>("n3", "/api/stock/txn-apple"));

        // the points participant refuses: the stock lock is released and the order cancelled, in the decision entry
        P.Rule = call => call.Gid == "shop-2" && call.Operation == "try" ? Behaviour.Refuse : Behaviour.Succeed;
        var (_, refused, _) = await BeginAsync(Checkout("shop-2", 2), wait: "finished");
        Assert.Equal("aborted", refused!.Status);
        Assert.Equal("cancelled", (await Cluster.GetAsync<Order>("n2", $"/api/orders/{refused.Branches.Single(b => b.BranchId == "order").OrderId}")).Status);
        Assert.Equal(new StockLevel("txn-apple", 7, 0, 3), await Cluster.GetAsync<StockLevel>("n3", "/api/stock/txn-apple"));

        // not enough stock: aborted in its begin entry, no participant try at all
        var (_, short1, _) = await BeginAsync(Checkout("shop-3", 50));
        Assert.Equal("abort", short1!.Decision);
        Assert.Contains("insufficient_stock", short1.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(P.CallsFor("shop-3"), c => c.Operation == "try");

        var types = (await Cluster.GetAsync<EventPageView>("n1", $"/api/events?after={after}&limit=1000")).Events
            .Where(e => e.Subject == "shop-1" || e.OrderId == orderId).Select(e => e.Type).ToList();
        Assert.Equal(["transactionBegun", "stockLocked", "branchVoted", "orderPlaced", "stockLocked", "branchVoted", "branchVoted",
            "transactionDecided", "stockSold", "branchAcknowledged", "orderPaid", "stockSold", "branchAcknowledged", "branchAcknowledged", "transactionFinished"], types);
    }
}

public sealed record EventView(string Id, long Sequence, string Type, long? OrderId, string? Subject, string? Sku, long? Quantity, string? Detail);

public sealed record EventPageView(EventView[] Events, long LastSequence);
