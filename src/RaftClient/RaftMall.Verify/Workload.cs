using System.Diagnostics;
using RaftMall.Client;

namespace RaftMall.Verify;

/// <summary>
/// One client process of the workload: kv reads, unique writes and cas on a small key space, and shop operations
/// (tokens, place with a unique user per logical order, pay, cancel, short-ttl orders that must expire). Every
/// operation is recorded with its invoke and completion time and outcome.
/// </summary>
public sealed class Workload(int process, VerifyOptions options, IReadOnlyList<Uri> endpoints, string apiKey, HistoryWriter history, Stopwatch clock, string run) : IDisposable
{
    public const int Keys = 5;
    public const int ShortTtlSeconds = 2;

    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);
    private readonly Random _random = new(HashCode.Combine(options.Seed, process));
    private readonly RaftMallClient _client = new(new RaftMallClientOptions
    {
        Endpoints = [.. endpoints.Skip(process % endpoints.Count), .. endpoints.Take(process % endpoints.Count)],
        ApiKey = apiKey,
        AttemptTimeout = AttemptTimeout,
        RetryBudget = TimeSpan.FromSeconds(3),
    });

    // The run's reads go to one node picked at random, and the client retries only that node. With the whole retry
    // budget, every client sooner or later picked a frozen, cut-off or removed node and waited there up to 3.3 s, all
    // eight at once: verify's longest windows without an acknowledged write around single-node faults were these reads
    // (seed 303 on 2026-12-04: 2.7–3.1 s, each with all eight clients in a read of the impaired node), not the
    // cluster. A read that fails is left out of the checks anyway, so these get one attempt's time.
    private readonly RaftMallClient _pinned = new(new RaftMallClientOptions
    {
        Endpoints = endpoints,
        ApiKey = apiKey,
        AttemptTimeout = AttemptTimeout,
        RetryBudget = AttemptTimeout,
    });
    private readonly Dictionary<string, (string? Value, long Revision)> _lastRead = [];
    private readonly List<long> _myPendingOrders = [];
    private int _sequence;

    public static string Sku(int i) => $"verify-sku-{i}";

    public static string Key(int i) => $"verify-key-{i}";

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var dice = _random.Next(100);
            if (dice < 30) await ReadAsync(Key(_random.Next(Keys)));
            else if (dice < 55) await WriteAsync(Key(_random.Next(Keys)));
            else if (dice < 65) await CasAsync(Key(_random.Next(Keys)));
            else if (dice < 82) await PlaceAsync();
            else if (dice < 91) await CloseAsync(pay: true);
            else await CloseAsync(pay: false);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _pinned.Dispose();
    }

    /// <summary>
    /// Reads a key from a random node with one attempt's time (or from <paramref name="node"/>, retried within the
    /// whole budget: the final reads), linearizably, or from the node's local state when
    /// the run is deliberately unsafe. Not through the leader hint: a follower serves a linearizable read itself after
    /// its read barrier, and a follower cut off with the old leader is where a wrong barrier reads stale state.
    /// </summary>
    public async Task ReadAsync(string key, Uri? node = null)
    {
        var invoke = clock.Elapsed.Ticks * 100;
        var consistency = options.UnsafeLocalReads ? ReadConsistency.Local : ReadConsistency.Linearizable;
        var client = node is null ? _pinned : _client;
        node ??= endpoints[_random.Next(endpoints.Count)];
        string? value;
        long revision;
        try
        {
            var entry = await client.GetAsync(key, consistency, node);
            (value, revision) = (entry.Value, entry.Revision);
        }
        catch (RaftMallNotFoundException e) when (e.Code == "key_not_found")
        {
            (value, revision) = (null, 0);
        }
        catch (Exception e) when (OutcomeRules.IsAnswerOrTransportError(e))
        {
            // A read that got no value changed nothing either way: it is left out of the checks.
            history.Record(new Operation { Process = process, Kind = Kinds.Read, Key = key, Detail = node.Authority, InvokeNs = invoke, CompleteNs = Now(), Outcome = Outcome.Fail });
            return;
        }
        _lastRead[key] = (value, revision);
        history.Record(new Operation { Process = process, Kind = Kinds.Read, Key = key, Value = value, Detail = node.Authority, InvokeNs = invoke, CompleteNs = Now(), Outcome = Outcome.Ok });
    }

    private async Task WriteAsync(string key)
    {
        var value = NewValue();
        var invoke = Now();
        var outcome = await OutcomeOfAsync(() => _client.PutAsync(key, value));
        history.Record(new Operation { Process = process, Kind = Kinds.Write, Key = key, Value = value, InvokeNs = invoke, CompleteNs = Now(), Outcome = outcome.Outcome });
    }

    // A cas expects the value (and so the revision) this process last read: with unique values, "the key is still at
    // revision r" and "the key still holds the value read at r" are the same condition.
    private async Task CasAsync(string key)
    {
        if (!_lastRead.TryGetValue(key, out var last))
        {
            await ReadAsync(key);
            return;
        }
        var expected = last.Value;
        var value = NewValue();
        var invoke = Now();
        Outcome outcome;
        bool? succeeded = null;
        try
        {
            await _client.PutAsync(key, value, last.Revision);
            (outcome, succeeded) = (Outcome.Ok, true);
        }
        catch (RaftMallConflictException e) when (e.Code == "revision_mismatch")
        {
            // The state machine compared and refused (and remembers that under the Idempotency-Key): a completed cas
            // that did not take effect. Any other refusal says nothing about the value and is a plain failure.
            (outcome, succeeded) = (Outcome.Ok, false);
        }
        catch (Exception e) when (OutcomeRules.IsAnswerOrTransportError(e))
        {
            outcome = OutcomeRules.OfFailedWrite(e);
        }
        history.Record(new Operation { Process = process, Kind = Kinds.Cas, Key = key, Value = value, Expected = expected, Succeeded = succeeded, InvokeNs = invoke, CompleteNs = Now(), Outcome = outcome });
        _lastRead.Remove(key);
    }

    private async Task PlaceAsync()
    {
        // A unique user per logical order: the final state must hold at most one order per user (idempotency keys
        // applied once), exactly one when the place was acknowledged.
        var user = $"{run}-p{process}-{++_sequence}";
        var shortTtl = _random.Next(5) == 0;
        string? token = null;
        if (_random.Next(2) == 0)
        {
            var invoke = Now();
            var issued = await OutcomeOfAsync(() => _client.IssueTokenAsync(user));
            token = (issued.Result as SubmitToken)?.Token;
            history.Record(new Operation { Process = process, Kind = Kinds.Token, Detail = user, Value = token, InvokeNs = invoke, CompleteNs = Now(), Outcome = issued.Outcome });
            if (token is null) return;
        }
        var lines = new[] { new OrderLine(Sku(_random.Next(3)), _random.Next(1, 4)) };
        var placeInvoke = Now();
        var placed = await OutcomeOfAsync(() => _client.PlaceOrderAsync(user, lines, token, shortTtl ? ShortTtlSeconds : 600));
        var order = placed.Result as Order;
        history.Record(new Operation
        {
            Process = process,
            Kind = Kinds.Place,
            Detail = $"{user} {lines[0].Sku}:{lines[0].Quantity} ttl={(shortTtl ? ShortTtlSeconds : 600)}",
            Value = token,
            OrderId = order?.OrderId,
            InvokeNs = placeInvoke,
            CompleteNs = Now(),
            Outcome = placed.Outcome,
        });
        if (order is null) return;
        if (!shortTtl) _myPendingOrders.Add(order.OrderId);
        if (token is not null && _random.Next(4) == 0)
        {
            // A double click: the same token again (with a new idempotency key) must not place a second order.
            var again = Now();
            var second = await OutcomeOfAsync(() => _client.PlaceOrderAsync(user, lines, token, 600));
            history.Record(new Operation
            {
                Process = process,
                Kind = Kinds.Place,
                Detail = $"{user} {lines[0].Sku}:{lines[0].Quantity} ttl=600 double-submit",
                Value = token,
                OrderId = (second.Result as Order)?.OrderId,
                InvokeNs = again,
                CompleteNs = Now(),
                Outcome = second.Outcome,
            });
        }
    }

    private async Task CloseAsync(bool pay)
    {
        if (_myPendingOrders.Count == 0)
        {
            await PlaceAsync();
            return;
        }
        var index = _random.Next(_myPendingOrders.Count);
        var orderId = _myPendingOrders[index];
        _myPendingOrders.RemoveAt(index);
        var invoke = Now();
        var result = await OutcomeOfAsync(() => pay ? _client.PayOrderAsync(orderId) : _client.CancelOrderAsync(orderId));
        history.Record(new Operation { Process = process, Kind = pay ? Kinds.Pay : Kinds.Cancel, OrderId = orderId, InvokeNs = invoke, CompleteNs = Now(), Outcome = result.Outcome });
    }

    private static async Task<(Outcome Outcome, object? Result)> OutcomeOfAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return (Outcome.Ok, await call());
        }
        catch (Exception e) when (OutcomeRules.IsAnswerOrTransportError(e))
        {
            return (OutcomeRules.OfFailedWrite(e), null);
        }
    }

    private string NewValue() => $"{run}-p{process}-v{++_sequence}";

    private long Now() => clock.Elapsed.Ticks * 100;
}
