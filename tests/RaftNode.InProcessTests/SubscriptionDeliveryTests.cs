using System.Net;
using System.Text.Json;
using RaftMall.Node.Consensus;
using RaftMall.Node.Drivers;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// SubscriptionDriver against the fake consensus, a fake subscriber (FakeHttp) and a fake clock: order and batches,
/// positions recorded in few entries, capped backoff, stuck marking and the operator's retry, one subscription never
/// waiting for another, resuming from the log after a change of leader, suspension at the outbox's bound.
/// </summary>
public sealed class SubscriptionDeliveryTests : IAsyncLifetime
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly Node _node = new(c =>
    {
        c.SubscriptionRetryInitialMs = 100;
        c.SubscriptionRetryMaxMs = 400;
        c.SubscriptionCommitMs = 100;
        c.RetainedEvents = 20;
    });
    private readonly FakeHttp _http = new();
    private readonly List<Delivery> _deliveries = [];
    private SubscriptionDriver _driver = null!;

    /// <summary>One call the subscriber received: when (fake time), for which subscription, which attempt, which events.</summary>
    private sealed record Delivery(DateTimeOffset At, string Subscription, int Attempt, long[] Sequences);

    public async Task InitializeAsync()
    {
        _driver = new SubscriptionDriver(_node.Consensus, _node.State, _node.Proposer, _http, _node.Settings, _node.Time, Node.Log<SubscriptionDriver>());
        await _driver.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _driver.StopAsync(CancellationToken.None);
        _driver.Dispose();
        _node.Consensus.Dispose();
    }

    [Fact]
    public async Task Matching_events_arrive_in_order_in_batches_and_the_position_is_recorded_in_few_entries()
    {
        Answer((_, _) => HttpStatusCode.OK);
        for (var i = 1; i <= 8; i++) await PublishAsync(i % 4 == 0 ? "points" : "stock"); // 4 and 8 do not match
        await CreateAsync("stock", batchSize: 3, startAfter: 0);

        await _node.RunUntilAsync(() => Subscription("stock").Position == 8, Step, Limit, "position 8 recorded");
        var deliveries = Deliveries("stock");
        Assert.Equal(new long[][] { [1, 2, 3], [5, 6, 7] }, deliveries.Select(d => d.Sequences));
        Assert.All(deliveries, d => Assert.Equal(1, d.Attempt));
        var body = JsonDocument.Parse(_http.Requests[0].Body).RootElement;
        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        Assert.Equal(("evt-1", "message", "stock"), (body[0].GetProperty("id").GetString(), body[0].GetProperty("type").GetString(), body[0].GetProperty("topic").GetString()));
        Assert.Equal(1, body[0].GetProperty("payload").GetProperty("n").GetInt32());

        // Two deliveries and a run of unmatched events, recorded in fewer entries than deliveries, never one per delivery.
        var records = _node.Consensus.Proposed.OfType<RecordSubscriptionProgress>().Count();
        Assert.InRange(records, 1, 2);
    }

    [Fact]
    public async Task Every_acknowledged_event_records_its_delay_since_this_node_applied_it()
    {
        var delays = new System.Collections.Concurrent.ConcurrentQueue<double>();
        var histogram = Observability.NodeTelemetry.SubscriptionDeliveryDelay; // created before the listener starts, which publishes existing instruments only
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument == histogram) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => delays.Enqueue(value));
        listener.Start();
        Answer((_, _) => HttpStatusCode.OK);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await CreateAsync("delays", batchSize: 2, topic: "delays", startAfter: 0);
        for (var i = 1; i <= 5; i++) await PublishAsync("delays");

        await _node.RunUntilAsync(() => Subscription("delays").Position == 5, Step, Limit, "position 5 recorded");
        var bound = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        Assert.Equal([1, 2, 3, 4, 5], Deliveries("delays").SelectMany(d => d.Sequences));
        // Other test classes may deliver at the same time (the instrument is static): at least these five, none negative
        // or longer than this test has run.
        Assert.True(delays.Count >= 5, $"{delays.Count} delays recorded for 5 acknowledged events");
        Assert.All(delays, d => Assert.InRange(d, 0, bound));
    }

    [Fact]
    public async Task A_failing_batch_is_sent_again_whole_with_backoff_doubling_to_the_cap_and_marked_stuck_after_max_attempts()
    {
        var failing = true;
        Answer((_, _) => failing ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        await PublishAsync("stock");
        await PublishAsync("stock");
        await CreateAsync("stock", batchSize: 10, maxAttempts: 5, startAfter: 0);

        await _node.RunUntilAsync(() => Deliveries("stock").Count >= 7, Step, Limit, "seven attempts");
        var attempts = Deliveries("stock").Take(7).ToList();
        Assert.All(attempts, d => Assert.Equal([1L, 2L], d.Sequences));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], attempts.Select(d => d.Attempt));
        var waits = attempts.Zip(attempts.Skip(1), (a, b) => (b.At - a.At).TotalMilliseconds).ToList();
        // 100, 200, 400 (the cap), 400, and stuck from the fifth: still retried, at the cap. A wait can come out one step
        // of the fake clock late, never early: the clock advances while the driver, on a real thread, is still taking the
        // failed answer, and its backoff timer then starts from the next step.
        double[] expected = [100, 200, 400, 400, 400, 400];
        Assert.All(expected.Zip(waits), pair => Assert.InRange(pair.Second, pair.First, pair.First + Step.TotalMilliseconds));

        await _node.RunUntilAsync(() => Subscription("stock").Stuck, Step, Limit, "stuck recorded");
        var stuck = Subscription("stock");
        Assert.True(stuck.Attempts >= 5);
        Assert.Contains("503", stuck.LastError, StringComparison.Ordinal);
        Assert.Equal(0, stuck.Position);

        failing = false;
        await _node.RunUntilAsync(() => Subscription("stock") is { Position: 2, Stuck: false, Attempts: 0 }, Step, Limit, "delivered and recorded once it answers");
        Assert.Equal("", Subscription("stock").LastError);
    }

    [Fact]
    public async Task An_operator_retry_calls_a_stuck_subscriber_at_once_instead_of_after_the_cap()
    {
        var node = _node.Settings.Cluster;
        node.SubscriptionRetryMaxMs = 30_000;
        var failing = true;
        Answer((_, _) => failing ? HttpStatusCode.InternalServerError : HttpStatusCode.OK);
        await CreateAsync("stock", batchSize: 10, maxAttempts: 2);
        await PublishAsync("stock");
        await _node.RunUntilAsync(() => Subscription("stock").Stuck, Step, Limit, "stuck after two attempts");
        var before = Deliveries("stock").Count;

        failing = false;
        var retried = await _node.Proposer.ProposeAsync(new RetrySubscription("stock"), CancellationToken.None);
        Assert.IsType<SubscriptionResult>(Assert.IsType<ProposeOutcome.Applied>(retried).Result);
        var asked = _node.Time.GetUtcNow();
        await _node.RunUntilAsync(() => Subscription("stock").Position == 1, Step, Limit, "delivered after the retry");
        Assert.True(_node.Time.GetUtcNow() - asked < TimeSpan.FromSeconds(1), "the retry waited for the backoff");
        var after = Deliveries("stock").Skip(before).ToList();
        Assert.Equal(1, after[0].Attempt); // the retry starts counting again
        Assert.False(Subscription("stock").Stuck);
    }

    [Fact]
    public async Task A_subscriber_that_never_answers_does_not_delay_another_subscription()
    {
        _http.Handler = async (request, body) =>
        {
            var delivery = Record(request, body);
            return delivery.Subscription == "hanging"
                ? await new TaskCompletionSource<HttpResponseMessage>().Task // never answers: the driver's deadline ends the call
                : new HttpResponseMessage(HttpStatusCode.OK);
        };
        await CreateAsync("hanging", batchSize: 1, topic: "stock", timeoutMs: 10_000);
        await CreateAsync("healthy", batchSize: 1, topic: "stock");
        for (var i = 0; i < 5; i++) await PublishAsync("stock");

        await _node.RunUntilAsync(() => Subscription("healthy").Position == 5, Step, TimeSpan.FromSeconds(5), "the healthy subscription delivered");
        Assert.Equal(new long[][] { [1], [2], [3], [4], [5] }, Deliveries("healthy").Select(d => d.Sequences));
        Assert.Equal(0, Subscription("hanging").Position);

        await _node.RunUntilAsync(() => Subscription("hanging").Attempts >= 1, Step, Limit, "the hanging call timing out");
        Assert.Contains("no answer within 10000 ms", Subscription("hanging").LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_leadership_resumes_from_the_recorded_position_after_a_read_barrier_with_nothing_lost_or_reordered()
    {
        Answer((_, _) => HttpStatusCode.OK);
        await CreateAsync("stock", batchSize: 2);
        for (var i = 0; i < 4; i++) await PublishAsync("stock");
        await _node.RunUntilAsync(() => Subscription("stock").Position == 4, Step, Limit, "the first four recorded");

        _node.Consensus.LeaderIs(_node.Member("n2"));
        for (var i = 0; i < 4; i++) _node.State.Apply(_node.State.LastAppliedIndex + 1, new PublishMessage("stock", null, "{}") { TimeMs = 1 }); // committed by n2
        var deliveredAsLeader = _deliveries.Count;
        await _node.RunUntilAsync(() => _node.Time.GetUtcNow() > Start + TimeSpan.FromSeconds(5), Step, Limit, "a while as a follower");
        Assert.Equal(deliveredAsLeader, _deliveries.Count); // a follower delivers nothing

        var barriers = _node.Consensus.ReadBarriers;
        _node.Consensus.LeaderIs(_node.Member("n1"));
        await _node.RunUntilAsync(() => Subscription("stock").Position == 8, Step, Limit, "the rest delivered by the new leadership");
        Assert.True(_node.Consensus.ReadBarriers > barriers, "delivered without applying what earlier leaders recorded");
        var firstSeen = Deliveries("stock").SelectMany(d => d.Sequences).Distinct().ToList();
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L], firstSeen);
    }

    [Fact]
    public async Task At_the_bound_a_lagging_subscription_is_suspended_and_delivers_again_only_once_an_operator_resumes_it()
    {
        var failing = true;
        Answer((_, _) => failing ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        await CreateAsync("slow", batchSize: 100);
        for (var i = 0; i < 25; i++) await PublishAsync("stock"); // the outbox keeps 20: events 1..5 go

        var suspended = Subscription("slow");
        Assert.Equal(1, suspended.SuspendedAt);
        failing = false;
        var before = _deliveries.Count;
        await _node.RunUntilAsync(() => _node.Time.GetUtcNow() > Start + TimeSpan.FromSeconds(3), Step, Limit, "a while suspended");
        Assert.True(_deliveries.Count <= before + 1, "a suspended subscription was delivered"); // at most the call in flight when it was suspended
        Assert.True(Subscription("slow").Suspended);

        var resumed = await _node.Proposer.ProposeAsync(new ResumeSubscription("slow", 5), CancellationToken.None);
        Assert.IsType<SubscriptionResult>(Assert.IsType<ProposeOutcome.Applied>(resumed).Result);
        await _node.RunUntilAsync(() => Subscription("slow").Position == 25, Step, Limit, "delivered after the resume");
        Assert.Equal(Enumerable.Range(6, 20).Select(i => (long)i), Deliveries("slow")[^1].Sequences);
    }

    private DateTimeOffset Start { get; } = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private async Task CreateAsync(string name, int batchSize, int maxAttempts = 10, string topic = "stock", int timeoutMs = 1_000, long? startAfter = null)
    {
        var spec = new SubscriptionSpec(name, $"http://127.0.0.1:7301/{name}", [topic], [], timeoutMs, batchSize, maxAttempts);
        var outcome = await _node.Proposer.ProposeAsync(new CreateSubscription(spec, startAfter), CancellationToken.None);
        Assert.IsType<SubscriptionResult>(Assert.IsType<ProposeOutcome.Applied>(outcome).Result);
    }

    private async Task PublishAsync(string topic)
    {
        var n = _node.State.Read(s => s.LastEventSequence) + 1;
        var outcome = await _node.Proposer.ProposeAsync(new PublishMessage(topic, null, $$"""{"n":{{n}}}"""), CancellationToken.None);
        Assert.IsType<MessageResult>(Assert.IsType<ProposeOutcome.Applied>(outcome).Result);
    }

    private Subscription Subscription(string name) => _node.State.Read(s => s.GetSubscription(name))!;

    private List<Delivery> Deliveries(string name)
    {
        lock (_deliveries) return [.. _deliveries.Where(d => d.Subscription == name)];
    }

    private Delivery Record(HttpRequestMessage request, string body)
    {
        var delivery = new Delivery(_node.Time.GetUtcNow(), request.Headers.GetValues(Contract.SubscriptionHeaders.Subscription).Single(),
            int.Parse(request.Headers.GetValues(Contract.SubscriptionHeaders.Attempt).Single(), System.Globalization.CultureInfo.InvariantCulture),
            [.. JsonDocument.Parse(body).RootElement.EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64())]);
        lock (_deliveries) _deliveries.Add(delivery);
        return delivery;
    }

    /// <summary>The subscriber: records each call and answers by subscription and attempt.</summary>
    private void Answer(Func<string, int, HttpStatusCode> answer) => _http.Handler = (request, body) =>
    {
        var delivery = Record(request, body);
        return Task.FromResult(new HttpResponseMessage(answer(delivery.Subscription, delivery.Attempt)));
    };
}
