using System.Text.Json;
using RaftMall.Client.Participants;

namespace RaftMall.Client.Tests.Participants;

/// <summary>
/// The barrier for every order in which the coordinator's calls can arrive at a participant (docs/participants.md).
/// The handlers are a points service: try freezes, confirm deducts the frozen points, cancel unfreezes them.
/// </summary>
public class ParticipantBarrierTests
{
    private const string Account = "alice";
    private const long Points = 30;

    private readonly PointsStore _store = new();
    private readonly ParticipantBarrier<PointsStore.Transaction> _barrier;

    public ParticipantBarrierTests()
    {
        _store.Deposit(Account, 100);
        _barrier = new ParticipantBarrier<PointsStore.Transaction>(_store);
    }

    [Fact]
    public async Task Try_then_confirm_applies_each_effect_once_and_a_repeated_confirm_gets_the_first_answer()
    {
        Assert.Equal(BarrierVerdict.Applied, (await Send("g1", ParticipantOperation.Try)).Verdict);
        Assert.Equal((70L, 30L), _store.Account(Account));
        var first = await Send("g1", ParticipantOperation.Confirm);
        Assert.Equal(BarrierVerdict.Applied, first.Verdict);
        var again = await Send("g1", ParticipantOperation.Confirm, attempt: 2);
        Assert.Equal(BarrierVerdict.Repeated, again.Verdict);
        Assert.Equal(first.Answer, again.Answer);
        Assert.Equal((70L, 0L), _store.Account(Account));
        Assert.Equal((1, 1, 0), (_store.Freezes, _store.Deductions, _store.Unfreezes));
    }

    [Fact]
    public async Task Try_then_cancel_compensates_once_and_a_repeated_cancel_gets_the_first_answer()
    {
        await Send("g2", ParticipantOperation.Try);
        var first = await Send("g2", ParticipantOperation.Cancel);
        Assert.Equal(BarrierVerdict.Applied, first.Verdict);
        var again = await Send("g2", ParticipantOperation.Cancel, attempt: 5);
        Assert.Equal(BarrierVerdict.Repeated, again.Verdict);
        Assert.Equal(first.Answer, again.Answer);
        Assert.Equal((100L, 0L), _store.Account(Account));
        Assert.Equal((1, 0, 1), (_store.Freezes, _store.Deductions, _store.Unfreezes));
    }

    [Fact]
    public async Task A_repeated_try_returns_the_first_answer_and_freezes_nothing_more()
    {
        var first = await Send("g3", ParticipantOperation.Try);
        var again = await Send("g3", ParticipantOperation.Try, attempt: 2);
        Assert.Equal((BarrierVerdict.Repeated, first.Answer), (again.Verdict, again.Answer));
        Assert.Equal((70L, 30L), _store.Account(Account));
        Assert.Equal(1, _store.Freezes);
    }

    [Fact]
    public async Task A_refused_try_commits_nothing_so_its_cancel_is_an_empty_rollback_that_unfreezes_nothing()
    {
        var refused = await Send("g4", ParticipantOperation.Try, points: 500); // more than the balance
        Assert.Equal((409, BarrierVerdict.NotApplied), (refused.Answer.Status, refused.Verdict));
        Assert.Null(_store.Barrier("g4", "points"));
        var cancel = await Send("g4", ParticipantOperation.Cancel, points: 500);
        Assert.Equal(BarrierVerdict.EmptyRollback, cancel.Verdict);
        Assert.True(cancel.Answer.IsSuccess);
        Assert.Equal((100L, 0L), _store.Account(Account)); // compensating here would have created 500 points
        Assert.Equal(0, _store.Unfreezes);
    }

    [Fact]
    public async Task A_try_that_wrote_and_then_failed_is_rolled_back_whole_and_its_cancel_is_empty()
    {
        // The handler froze the points, then failed (here: threw) before answering: its local transaction rolls back,
        // so the freeze and the barrier record are both gone and there is nothing to compensate.
        await Assert.ThrowsAsync<TimeoutException>(() => _barrier.HandleAsync(Call("g5", ParticipantOperation.Try), (tx, _) =>
        {
            tx.Freeze(Account, Points);
            throw new TimeoutException("downstream check timed out");
        }, CancellationToken.None));
        Assert.Equal((100L, 0L), _store.Account(Account));
        Assert.Equal(BarrierVerdict.EmptyRollback, (await Send("g5", ParticipantOperation.Cancel)).Verdict);
        Assert.Equal((100L, 0L), _store.Account(Account));
    }

    [Fact]
    public async Task A_try_that_committed_but_whose_answer_was_lost_is_compensated_by_its_cancel()
    {
        // The coordinator saw a timeout (a "failed" try) and aborts, but the try had committed here: the barrier record
        // committed with the freeze says so, and the cancel must unfreeze. Skipping it (Seata's fence) would leak the freeze.
        await Send("g6", ParticipantOperation.Try);
        var cancel = await Send("g6", ParticipantOperation.Cancel);
        Assert.Equal(BarrierVerdict.Applied, cancel.Verdict);
        Assert.Equal((100L, 0L), _store.Account(Account));
        Assert.Equal(1, _store.Unfreezes);
    }

    [Fact]
    public async Task A_cancel_before_its_try_is_an_empty_rollback_and_the_late_try_is_refused()
    {
        var cancel = await Send("g7", ParticipantOperation.Cancel);
        Assert.Equal(BarrierVerdict.EmptyRollback, cancel.Verdict);
        Assert.True(_store.Barrier("g7", "points")!.EmptyRollback);
        var lateTry = await Send("g7", ParticipantOperation.Try);
        Assert.Equal((409, BarrierVerdict.TryAfterCancel), (lateTry.Answer.Status, lateTry.Verdict));
        Assert.Equal(ParticipantBarrier<PointsStore.Transaction>.CancelledCode, Code(lateTry));
        Assert.Equal((100L, 0L), _store.Account(Account)); // nothing stays frozen forever ("hanging")
        Assert.Equal(BarrierVerdict.Repeated, (await Send("g7", ParticipantOperation.Cancel, attempt: 2)).Verdict);
        Assert.Equal((0, 0), (_store.Freezes, _store.Unfreezes));
    }

    [Fact]
    public async Task Confirm_after_cancel_and_cancel_after_confirm_are_conflicts_that_change_nothing()
    {
        await Send("g8", ParticipantOperation.Try);
        await Send("g8", ParticipantOperation.Cancel);
        var confirm = await Send("g8", ParticipantOperation.Confirm);
        Assert.Equal((409, BarrierVerdict.Conflict, "barrier_cancelled"), (confirm.Answer.Status, confirm.Verdict, Code(confirm)));

        await Send("g9", ParticipantOperation.Try);
        await Send("g9", ParticipantOperation.Confirm);
        var cancel = await Send("g9", ParticipantOperation.Cancel);
        Assert.Equal((409, BarrierVerdict.Conflict, "barrier_confirmed"), (cancel.Answer.Status, cancel.Verdict, Code(cancel)));

        Assert.Equal((70L, 0L), _store.Account(Account)); // g8 undone, g9 deducted, each once
        Assert.Equal((2, 1, 1), (_store.Freezes, _store.Deductions, _store.Unfreezes));
    }

    [Fact]
    public async Task A_confirm_without_a_try_is_refused_and_records_nothing()
    {
        var confirm = await Send("g10", ParticipantOperation.Confirm);
        Assert.Equal((409, "barrier_not_tried"), (confirm.Answer.Status, Code(confirm)));
        Assert.Null(_store.Barrier("g10", "points"));
    }

    [Fact]
    public async Task A_failed_confirm_commits_nothing_and_its_retry_applies_once()
    {
        await Send("g11", ParticipantOperation.Try);
        var failed = await _barrier.HandleAsync(Call("g11", ParticipantOperation.Confirm), (tx, _) =>
        {
            tx.Deduct(Account, Points);
            return ValueTask.FromResult(new BarrierAnswer(503)); // e.g. the ledger service is down: the coordinator retries
        }, CancellationToken.None);
        Assert.Equal(BarrierVerdict.NotApplied, failed.Verdict);
        Assert.Equal((70L, 30L), _store.Account(Account));
        Assert.Equal(BarrierState.Tried, _store.Barrier("g11", "points")!.State);
        Assert.Equal(BarrierVerdict.Applied, (await Send("g11", ParticipantOperation.Confirm, attempt: 2)).Verdict);
        Assert.Equal(((70L, 0L), 1), (_store.Account(Account), _store.Deductions));
    }

    [Fact]
    public async Task Concurrent_duplicate_deliveries_apply_each_effect_once()
    {
        _store.PauseAfterRead = TimeSpan.FromMilliseconds(2); // every duplicate reads the barrier before the first commits, unless serialized
        var tries = await Task.WhenAll(Enumerable.Range(1, 16).Select(a => Send("g12", ParticipantOperation.Try, attempt: a)));
        Assert.Single(tries, t => t.Verdict == BarrierVerdict.Applied);
        Assert.All(tries, t => Assert.Equal(tries[0].Answer, t.Answer));
        var confirms = await Task.WhenAll(Enumerable.Range(1, 16).Select(a => Send("g12", ParticipantOperation.Confirm, attempt: a)));
        Assert.Single(confirms, c => c.Verdict == BarrierVerdict.Applied);
        Assert.All(confirms, c => Assert.Equal(confirms[0].Answer, c.Answer));
        Assert.Equal((1, 1), (_store.Freezes, _store.Deductions));
        Assert.Equal((70L, 0L), _store.Account(Account));
    }

    [Fact]
    public async Task A_try_racing_its_cancel_either_is_compensated_or_is_refused_and_never_leaves_points_frozen()
    {
        _store.PauseAfterRead = TimeSpan.FromMilliseconds(1);
        for (var i = 0; i < 40; i++)
        {
            var gid = $"race-{i}";
            var operations = i % 2 == 0 ? new[] { ParticipantOperation.Try, ParticipantOperation.Cancel } : [ParticipantOperation.Cancel, ParticipantOperation.Try];
            var outcomes = await Task.WhenAll(operations.Select(op => Send(gid, op)));
            var tried = outcomes[Array.IndexOf(operations, ParticipantOperation.Try)];
            var cancelled = outcomes[Array.IndexOf(operations, ParticipantOperation.Cancel)];
            Assert.True(
                (tried.Verdict, cancelled.Verdict) is (BarrierVerdict.Applied, BarrierVerdict.Applied) or (BarrierVerdict.TryAfterCancel, BarrierVerdict.EmptyRollback),
                $"{gid}: try {tried.Verdict}, cancel {cancelled.Verdict}");
            Assert.Equal((100L, 0L), _store.Account(Account));
        }
        Assert.Equal(_store.Freezes, _store.Unfreezes);
    }

    [Fact]
    public async Task Branches_of_one_transaction_are_independent()
    {
        await Send("g13", ParticipantOperation.Try, branch: "points-a");
        var cancelOther = await Send("g13", ParticipantOperation.Cancel, branch: "points-b");
        Assert.Equal(BarrierVerdict.EmptyRollback, cancelOther.Verdict);
        Assert.Equal(BarrierVerdict.Applied, (await Send("g13", ParticipantOperation.Confirm, branch: "points-a")).Verdict);
        Assert.Equal((70L, 0L), _store.Account(Account));
    }

    [Theory]
    [InlineData(ParticipantOperation.Prepare, ParticipantOperation.Commit, ParticipantOperation.Rollback)]
    [InlineData(ParticipantOperation.Action, null, ParticipantOperation.Compensate)]
    public async Task Two_phase_commit_and_saga_operations_follow_the_same_barrier(ParticipantOperation first, ParticipantOperation? forward, ParticipantOperation backward)
    {
        Assert.Equal(BarrierVerdict.EmptyRollback, (await Send("m1", backward)).Verdict);
        Assert.Equal(BarrierVerdict.TryAfterCancel, (await Send("m1", first)).Verdict);
        Assert.Equal(BarrierVerdict.Applied, (await Send("m2", first)).Verdict);
        if (forward is { } commit) Assert.Equal(BarrierVerdict.Applied, (await Send("m2", commit)).Verdict);
        else Assert.Equal(BarrierVerdict.Applied, (await Send("m2", backward)).Verdict);
        Assert.Equal(forward is null ? (100L, 0L) : (70L, 0L), _store.Account(Account));
    }

    private Task<BarrierOutcome> Send(string gid, ParticipantOperation operation, int attempt = 1, long points = Points, string branch = "points") =>
        _barrier.HandleAsync(Call(gid, operation, attempt, branch), (tx, _) => ValueTask.FromResult(ParticipantCall.PhaseOf(operation) switch
        {
            BarrierPhase.Try => tx.Freeze(Account, points) ? BarrierAnswer.Ok($$"""{"frozen":{{points}}}""") : BarrierAnswer.Refused("""{"code":"insufficient_points"}"""),
            BarrierPhase.Confirm => Do(() => tx.Deduct(Account, points), """{"deducted":true}"""),
            _ => Do(() => tx.Unfreeze(Account, points), """{"unfrozen":true}"""),
        }), CancellationToken.None);

    private static BarrierAnswer Do(Action effect, string body)
    {
        effect();
        return BarrierAnswer.Ok(body);
    }

    private static ParticipantCall Call(string gid, ParticipantOperation operation, int attempt = 1, string branch = "points")
    {
        var mode = operation switch
        {
            ParticipantOperation.Try or ParticipantOperation.Confirm or ParticipantOperation.Cancel => ParticipantMode.Tcc,
            ParticipantOperation.Prepare or ParticipantOperation.Commit or ParticipantOperation.Rollback => ParticipantMode.TwoPhaseCommit,
            _ => ParticipantMode.Saga,
        };
        return new ParticipantCall(gid, branch, operation, attempt, mode);
    }

    private static string? Code(BarrierOutcome outcome) => JsonDocument.Parse(outcome.Answer.Body!).RootElement.GetProperty("code").GetString();
}
