using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine.Tests;

/// <summary>Push subscriptions in the state machine: creation, recorded progress and generations, operator actions, suspension at the outbox's bound.</summary>
public class SubscriptionStateTests
{
    private static SubscriptionSpec Spec(string name = "stock", string[]? topics = null, string[]? types = null, int batch = 10) =>
        new(name, "http://127.0.0.1:9/in", topics ?? ["stock"], types ?? [], 1_000, batch, 3);

    private static MallResult Apply(MallStateMachine state, MallCommand command) => state.Apply(CommandCodec.Decode(CommandCodec.Encode(command with { TimeMs = 1_000 })));

    private static Subscription Created(MallStateMachine state, SubscriptionSpec spec, long? startAfter = null) =>
        Assert.IsType<SubscriptionResult>(Apply(state, new CreateSubscription(spec, startAfter))).Subscription;

    [Fact]
    public void A_new_subscription_starts_after_the_newest_event_and_a_repeated_create_changes_nothing()
    {
        var state = new MallStateMachine();
        Apply(state, new PublishMessage("stock", null, "1"));
        var created = Created(state, Spec());
        Assert.Equal(1, created.Position);
        Assert.Equal(1, created.Generation);
        Assert.Equal(created, Created(state, Spec()));

        var other = Assert.IsType<Rejected>(Apply(state, new CreateSubscription(Spec(batch: 20), null)));
        Assert.Equal(ErrorCode.SubscriptionExists, other.Code);
        Assert.Equal(10, state.GetSubscription("stock")!.Spec.BatchSize);
    }

    [Theory]
    [InlineData("", "http://h/", "t", "", "name must not be empty")]
    [InlineData("s", "ftp://h/", "t", "", "endpoint")]
    [InlineData("s", "http://h/", "", "", "at least one topic or event type")]
    [InlineData("s", "http://h/", "", "orderShipped", "event type 'orderShipped'")]
    [InlineData("s", "http://h/", "t,t", "", "twice")]
    public void Bad_settings_are_refused_and_create_nothing(string name, string endpoint, string topics, string types, string why)
    {
        var state = new MallStateMachine();
        var spec = new SubscriptionSpec(name, endpoint, topics.Length == 0 ? [] : topics.Split(','), types.Length == 0 ? [] : types.Split(','), 1_000, 10, 3);
        var rejected = Assert.IsType<Rejected>(Apply(state, new CreateSubscription(spec, null)));
        Assert.Equal(ErrorCode.Validation, rejected.Code);
        Assert.Contains(why, rejected.Detail, StringComparison.Ordinal);
        Assert.Empty(state.ListSubscriptions());
    }

    [Fact]
    public void Delivery_batches_match_topics_and_types_and_skip_what_does_not_match()
    {
        var state = new MallStateMachine();
        Created(state, Spec(topics: ["stock"], types: ["stockSet"], batch: 2), startAfter: 0);
        Apply(state, new PublishMessage("points", null, "1")); // 1: not matched
        Apply(state, new PublishMessage("stock", null, "2")); // 2
        Apply(state, new SetStock("apple", 5)); // 3
        Apply(state, new PublishMessage("stock", null, "4")); // 4

        var first = state.NextDelivery("stock", 0, 1_000)!;
        Assert.Equal([2L, 3L], first.Events.Select(e => e.Sequence));
        Assert.Equal(3, first.ScannedTo);
        var second = state.NextDelivery("stock", first.ScannedTo, 1_000)!;
        Assert.Equal([4L], second.Events.Select(e => e.Sequence));
        Assert.Equal(4, second.ScannedTo);

        // Nothing matches after 4; a scan limit bounds how far one read looks.
        Apply(state, new PublishMessage("points", null, "5"));
        Apply(state, new PublishMessage("points", null, "6"));
        var idle = state.NextDelivery("stock", 4, 1)!;
        Assert.Empty(idle.Events);
        Assert.Equal(5, idle.ScannedTo);
        Assert.Null(state.NextDelivery("nobody", 0, 10));
    }

    [Fact]
    public void Progress_moves_forward_only_and_a_record_of_an_older_generation_is_ignored()
    {
        var state = new MallStateMachine();
        for (var i = 0; i < 5; i++) Apply(state, new PublishMessage("stock", null, "1"));
        Created(state, Spec(), startAfter: 0);

        var recorded = Assert.IsType<SubscriptionProgressResult>(Apply(state, new RecordSubscriptionProgress([new SubscriptionProgress("stock", 1, 4, 0, "", false)])));
        Assert.Equal((1, 0), (recorded.Recorded, recorded.Ignored));
        Apply(state, new RecordSubscriptionProgress([new SubscriptionProgress("stock", 1, 2, 3, "503", true)])); // late: the position stays
        var sub = state.GetSubscription("stock")!;
        Assert.Equal((4L, 3, "503", true), (sub.Position, sub.Attempts, sub.LastError, sub.Stuck));

        // The operator's retry starts generation 2; a record made under generation 1 arriving after it changes nothing.
        var retried = Assert.IsType<SubscriptionResult>(Apply(state, new RetrySubscription("stock"))).Subscription;
        Assert.Equal((2L, 0, false, 4L), (retried.Generation, retried.Attempts, retried.Stuck, retried.Position));
        var late = Assert.IsType<SubscriptionProgressResult>(Apply(state, new RecordSubscriptionProgress([new SubscriptionProgress("stock", 1, 5, 4, "503", true)])));
        Assert.Equal((0, 1), (late.Recorded, late.Ignored));
        Assert.Equal(retried, state.GetSubscription("stock"));

        var beyond = Assert.IsType<Rejected>(Apply(state, new RecordSubscriptionProgress([new SubscriptionProgress("stock", 2, 6, 0, "", false)])));
        Assert.Equal(ErrorCode.Validation, beyond.Code);
    }

    [Fact]
    public void At_the_bound_a_lagging_subscription_is_suspended_never_skipped_and_an_operator_resumes_or_drops_it()
    {
        var state = new MallStateMachine(retainedEvents: 5);
        Created(state, Spec("lagging", topics: ["stock"]), startAfter: 0);
        Created(state, Spec("other-topic", topics: ["points"]), startAfter: 0);
        for (var i = 0; i < 5; i++) Apply(state, new PublishMessage("stock", null, "1")); // 1..5: the outbox is full
        Assert.All(state.ListSubscriptions(), s => Assert.False(s.Suspended));

        Apply(state, new PublishMessage("stock", null, "6")); // trims 1, which "lagging" never acknowledged
        var suspended = state.GetSubscription("lagging")!;
        Assert.Equal(1, suspended.SuspendedAt);
        Assert.Equal(2, suspended.Generation);
        Assert.Empty(state.NextDelivery("lagging", 0, 100)!.Events);
        // A subscription that matches none of the trimmed events loses nothing and goes on past the gap.
        Assert.False(state.GetSubscription("other-topic")!.Suspended);
        var past = state.NextDelivery("other-topic", 0, 100)!;
        Assert.Empty(past.Events);
        Assert.Equal(6, past.ScannedTo);

        // Its in-flight progress cannot lift the suspension, nor can a retry; a resume before the oldest kept event is refused.
        Apply(state, new RecordSubscriptionProgress([new SubscriptionProgress("lagging", 1, 3, 0, "", false)]));
        Assert.True(state.GetSubscription("lagging")!.Suspended);
        Assert.Equal(ErrorCode.SubscriptionSuspended, Assert.IsType<Rejected>(Apply(state, new RetrySubscription("lagging"))).Code);
        var tooEarly = Assert.IsType<Rejected>(Apply(state, new ResumeSubscription("lagging", 0)));
        Assert.Contains("between 1", tooEarly.Detail, StringComparison.Ordinal);

        var resumed = Assert.IsType<SubscriptionResult>(Apply(state, new ResumeSubscription("lagging", 1))).Subscription;
        Assert.Equal((0L, 1L, 3L), (resumed.SuspendedAt, resumed.Position, resumed.Generation));
        Assert.Equal([2L, 3L, 4L, 5L, 6L], state.NextDelivery("lagging", 1, 100)!.Events.Select(e => e.Sequence));

        Assert.IsType<SubscriptionResult>(Apply(state, new DeleteSubscription("lagging")));
        Assert.Equal(ErrorCode.SubscriptionNotFound, Assert.IsType<Rejected>(Apply(state, new DeleteSubscription("lagging"))).Code);
        Assert.Equal(state.Snapshot(), MallStateMachine.Restore(state.Snapshot(), retainedEvents: 5).Snapshot());
    }

    [Fact]
    public void Subscriptions_survive_a_snapshot_and_a_keyed_create_answers_its_first_result()
    {
        var state = new MallStateMachine();
        Apply(state, new PublishMessage("stock", null, "1"));
        Created(state, Spec("a", types: ["message", "orderPlaced"]), startAfter: 0);
        var keyed = new CreateSubscription(Spec("b"), null) { IdempotencyKey = "create-b" };
        var first = Apply(state, keyed);
        Apply(state, new RecordSubscriptionProgress([new SubscriptionProgress("a", 1, 1, 2, "timeout", false)]));

        var restored = MallStateMachine.Restore(state.Snapshot());
        Assert.Equal(state.Snapshot(), restored.Snapshot());
        Assert.Equal(["a", "b"], restored.ListSubscriptions().Select(s => s.Name));
        var a = restored.GetSubscription("a")!;
        Assert.Equal((1L, 2, "timeout"), (a.Position, a.Attempts, a.LastError));
        Assert.True(a.Spec.SameAs(Spec("a", types: ["message", "orderPlaced"])));
        var repeated = Assert.IsType<SubscriptionResult>(Apply(restored, keyed));
        Assert.True(((SubscriptionResult)first).Subscription.Spec.SameAs(repeated.Subscription.Spec));
    }
}
