using System.Diagnostics;
using System.Text.Json;
using RaftMall.Client;

namespace RaftMall.Verify;

/// <summary>
/// The message side of the workload: publishers that commit messages of one topic, each recorded with its outcome and,
/// when acknowledged, its sequence; and the subscriptions that push them to a <see cref="RaftMall.Harness.PushSubscriber"/>
/// in this process. Its randomness is its own (not the nemesis's nor the other clients'), so a seed's fault schedule
/// and kv/shop operations are those of a run without messages.
/// </summary>
public sealed class MessageWorkload(int process, VerifyOptions options, IReadOnlyList<Uri> endpoints, string apiKey, HistoryWriter history, Stopwatch clock) : IDisposable
{
    public const string Topic = "verify-messages";

    /// <summary>Two subscriptions with different batch sizes to one subscriber: order is checked per subscription.</summary>
    public static readonly (string Name, int BatchSize)[] Subscriptions = [("verify-small-batches", 5), ("verify-large-batches", 100)];

    /// <summary>Publishers besides the workload's clients (process ids from 500).</summary>
    public const int Publishers = 2;

    public const int FirstProcess = 500;

    /// <summary>Messages one publisher commits at most in a run, far below the outbox's retention (100,000 events).</summary>
    public const int MaxMessagesPerPublisher = 10_000;

    private readonly Random _random = new(unchecked((options.Seed * 31) + 0x6d7367 + process));
    private readonly RaftMallClient _client = new(new RaftMallClientOptions
    {
        Endpoints = [.. endpoints.Skip(process % endpoints.Count), .. endpoints.Take(process % endpoints.Count)],
        ApiKey = apiKey,
        AttemptTimeout = TimeSpan.FromSeconds(1),
        RetryBudget = TimeSpan.FromSeconds(3),
    });

    /// <summary>Creates the subscriptions (before any message, so each starts before the first) pushing to <paramref name="urlOf"/>.</summary>
    public static async Task SubscribeAsync(RaftMallClient admin, Func<string, string> urlOf, CancellationToken token)
    {
        foreach (var (name, batchSize) in Subscriptions)
        {
            await admin.CreateSubscriptionAsync(new SubscriptionRequest(name, urlOf(name), [Topic], null, 2_000, batchSize, 10, null), token: token);
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        for (var published = 0; published < MaxMessagesPerPublisher && !stop.IsCancellationRequested; published++)
        {
            var key = $"k{_random.Next(16)}";
            var payload = JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["publisher"] = process, ["n"] = published }, VerifyJsonContext.Default.DictionaryStringInt32);
            var invoke = Now();
            try
            {
                var message = await _client.PublishAsync(Topic, key, payload, token: CancellationToken.None); // a started publish runs to its outcome
                history.Record(new Operation { Process = process, Kind = Kinds.Publish, Key = key, Value = message.Id, Sequence = message.Sequence, InvokeNs = invoke, CompleteNs = Now(), Outcome = Outcome.Ok });
            }
            catch (Exception e) when (OutcomeRules.IsAnswerOrTransportError(e))
            {
                history.Record(new Operation { Process = process, Kind = Kinds.Publish, Key = key, InvokeNs = invoke, CompleteNs = Now(), Outcome = OutcomeRules.OfFailedWrite(e) });
            }
        }
    }

    public void Dispose() => _client.Dispose();

    private long Now() => clock.Elapsed.Ticks * 100;
}
