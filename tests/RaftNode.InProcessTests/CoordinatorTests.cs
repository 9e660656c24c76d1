using System.Net;

using RaftMall.Node.Consensus;
using RaftMall.Node.Drivers;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>TransactionDriver: phase 1, the decision in the log before phase 2, phase-2 retries, stuck branches, resume.</summary>
public sealed class CoordinatorTests : IAsyncLifetime
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The step while only time passes and nothing may happen (no leadership): every timer due still fires at each
    /// step, and each step costs real time to let the thread pool run (Node.Settle), so a long quiet wait takes few.
    /// </summary>
    private static readonly TimeSpan QuietStep = TimeSpan.FromMilliseconds(500);

    private readonly Node _node = new(c =>
    {
        c.TxnRetryInitialMs = 100;
        c.TxnRetryMaxMs = 400;
        c.TxnStuckAfterAttempts = 3;
    });
    private readonly FakeHttp _http = new();
    private readonly List<string> _calls = [];
    private WriteBatcher _writes = null!;
    private CommandBatcher _batcher = null!;
    private TransactionDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _writes = new WriteBatcher(_node.Proposer, _node.Settings, Node.Log<WriteBatcher>());
        _batcher = new CommandBatcher(_node.Proposer, _writes, Node.Log<CommandBatcher>());
        _driver = new TransactionDriver(_node.Consensus, _node.State, new ParticipantCaller(_http, _node.Settings, _node.Time), _batcher,
            _node.Settings, _node.Time, Node.Log<TransactionDriver>());
        await _writes.StartAsync(CancellationToken.None);
        await _batcher.StartAsync(CancellationToken.None);
        await _driver.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _driver.StopAsync(CancellationToken.None);
        await _batcher.StopAsync(CancellationToken.None);
        await _writes.StopAsync(CancellationToken.None);
        _driver.Dispose();
        _batcher.Dispose();
        _writes.Dispose();
        _node.Consensus.Dispose();
    }

    [Fact]
    public async Task Every_try_succeeds_so_the_commit_decision_is_in_the_log_before_the_first_confirm()
    {
        var decidedAtFirstConfirm = (bool?)null;
        Answer((operation, _, _) =>
        {
            if (operation == "confirm") decidedAtFirstConfirm ??= Transaction().IsDecided;
            return HttpStatusCode.OK;
        });

        await BeginAsync("b1", "b2");
        await _node.RunUntilAsync(() => Transaction().IsFinished, Step, Limit, "the transaction finishing");

        var txn = Transaction();
        Assert.Equal(TransactionStatus.Committed, txn.Status);
        Assert.True(decidedAtFirstConfirm);
        Assert.Equal(["try b1", "try b2"], _calls.Take(2).Order());
        Assert.Equal(["confirm b1", "confirm b2"], _calls.Skip(2).Order());
        Assert.All(_http.Requests, r => Assert.Equal("1", r.Request.Headers.GetValues(Contract.ParticipantHeaders.Attempt).Single()));
    }

    [Fact]
    public async Task A_refused_try_aborts_the_transaction_and_the_tried_branch_is_cancelled()
    {
        Answer((operation, branch, _) => operation == "try" && branch == "b2" ? HttpStatusCode.Conflict : HttpStatusCode.OK);

        await BeginAsync("b1", "b2");
        await _node.RunUntilAsync(() => Transaction().IsFinished, Step, Limit, "the transaction finishing");

        var txn = Transaction();
        Assert.Equal(TransactionStatus.Aborted, txn.Status);
        Assert.Equal(Decision.Abort, txn.Decision);
        Assert.Contains("cancel b1", _calls);
        Assert.DoesNotContain(_calls, c => c.StartsWith("confirm", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_confirm_is_retried_with_growing_attempts_marked_stuck_and_finished_once_it_answers()
    {
        var stuckSeen = false;
        Answer((operation, branch, attempt) =>
        {
            if (operation != "confirm" || branch != "b1") return HttpStatusCode.OK;
            stuckSeen |= Array.Find(Transaction().Branches, b => b.BranchId == "b1")!.Stuck;
            return attempt < 5 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK;
        });

        await BeginAsync("b1");
        await _node.RunUntilAsync(() => Transaction().IsFinished, Step, Limit, "the transaction finishing");

        var attempts = _http.Requests.Where(r => r.Request.Headers.GetValues(Contract.ParticipantHeaders.Operation).Single() == "confirm")
            .Select(r => r.Request.Headers.GetValues(Contract.ParticipantHeaders.Attempt).Single()).ToList();
        Assert.Equal(["1", "2", "3", "4", "5"], attempts);
        Assert.True(stuckSeen, "the branch was never marked stuck after 3 failed attempts");
        Assert.Equal(TransactionStatus.Committed, Transaction().Status);
    }

    [Fact]
    public async Task A_transaction_left_by_another_leader_is_resumed_after_a_read_barrier_once_this_node_leads()
    {
        Answer((_, _, _) => HttpStatusCode.OK);
        await BeginAsync(start: false, "b1"); // begun while this node led...
        _node.Consensus.LeaderIs(_node.Member("n2")); // ...which it stopped doing before driving it
        var barriersBefore = _node.Consensus.ReadBarriers;

        await _node.RunUntilAsync(() => _node.Time.GetUtcNow() > Begun + TimeSpan.FromSeconds(2), QuietStep, Limit, "two seconds");
        Assert.Empty(_calls); // a follower drives nothing

        _node.Consensus.LeaderIs(_node.Member("n1"));
        await _node.RunUntilAsync(() => Transaction().IsFinished, Step, Limit, "the resumed transaction finishing");
        Assert.True(_node.Consensus.ReadBarriers > barriersBefore, "resumed without applying what earlier leaders committed");
        Assert.Equal(TransactionStatus.Committed, Transaction().Status);
    }

    [Fact]
    public async Task Phase_two_stops_when_leadership_is_lost_and_the_next_leadership_finishes_it()
    {
        var confirmsAccepted = false;
        Answer((operation, _, _) => operation != "confirm" || confirmsAccepted ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable);
        await BeginAsync("b1");
        await _node.RunUntilAsync(() => _calls.Count(c => c == "confirm b1") >= 2, Step, Limit, "confirms being retried");

        _node.Consensus.LeaderIs(null); // an election
        await Node.Settle();
        var callsWhenLost = _calls.Count;
        await _node.RunUntilAsync(() => _node.Time.GetUtcNow() > Begun + TimeSpan.FromSeconds(10), QuietStep, Limit, "a while without leadership");
        Assert.Equal(callsWhenLost, _calls.Count);
        Assert.False(Transaction().IsFinished);

        confirmsAccepted = true;
        _node.Consensus.LeaderIs(_node.Member("n1"));
        await _node.RunUntilAsync(() => Transaction().IsFinished, Step, Limit, "the transaction finishing under the new leadership");
        Assert.Equal(TransactionStatus.Committed, Transaction().Status);
    }

    private DateTimeOffset Begun { get; set; }

    private Task BeginAsync(params string[] branches) => BeginAsync(start: true, branches);

    /// <summary>Begins g1 with HTTP branches; with <paramref name="start"/> the driver is told at once (as the begin endpoint does).</summary>
    private async Task BeginAsync(bool start, params string[] branches)
    {
        Begun = _node.Time.GetUtcNow();
        var specs = branches.Select(b => BranchSpec.Http(b, $"http://127.0.0.1:7201/{b}/try", $"http://127.0.0.1:7201/{b}/confirm", $"http://127.0.0.1:7201/{b}/cancel")).ToArray();
        var outcome = await _node.Proposer.ProposeAsync(new BeginTransaction("g1", TransactionMode.Tcc, 30_000, specs), CancellationToken.None);
        Assert.True(Assert.IsType<ProposeOutcome.Applied>(outcome).Result.IsSuccess);
        if (start) _driver.Start("g1");
    }

    private GlobalTransaction Transaction() => _node.State.Read(s => s.GetTransaction("g1"))!;

    /// <summary>The participant: answers each call by operation, branch and attempt, and records it.</summary>
    private void Answer(Func<string, string, int, HttpStatusCode> answer) => _http.Handler = (request, _) =>
    {
        var operation = request.Headers.GetValues(Contract.ParticipantHeaders.Operation).Single();
        var branch = request.Headers.GetValues(Contract.ParticipantHeaders.Branch).Single();
        var attempt = int.Parse(request.Headers.GetValues(Contract.ParticipantHeaders.Attempt).Single(), System.Globalization.CultureInfo.InvariantCulture);
        lock (_calls) _calls.Add($"{operation} {branch}");
        return Task.FromResult(new HttpResponseMessage(answer(operation, branch, attempt)));
    };
}
