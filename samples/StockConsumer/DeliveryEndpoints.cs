using System.Collections.Concurrent;
using System.Text.Json;
using RaftMall.Client.Consumers;

namespace RaftMall.Samples.StockConsumer;

/// <summary>
/// The service's API: <c>POST /deliveries</c>, where the leader pushes a subscription's batches, and <c>GET /ledger</c>,
/// what each subscription applied.
/// </summary>
public static class DeliveryEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapDeliveryEndpoints(this IEndpointRouteBuilder app, StockLedger ledger)
    {
        // One batch of a subscription at a time: a batch the leader sends again after its timeout waits for the first
        // call to finish, so each subscription's messages are applied in outbox order.
        var turns = new ConcurrentDictionary<string, SemaphoreSlim>(StringComparer.Ordinal);
        var deduplicators = new ConcurrentDictionary<string, MessageDeduplicator<LedgerTransaction>>(StringComparer.Ordinal);

        app.MapPost("/deliveries", async (HttpRequest request) =>
        {
            if (request.Headers[SubscriptionHeaders.Subscription].FirstOrDefault() is not { Length: > 0 } subscription)
            {
                return Problem(400, "missing_subscription", $"a delivery names its subscription in {SubscriptionHeaders.Subscription}");
            }
            MallEvent[]? batch;
            try
            {
                batch = await request.ReadFromJsonAsync<MallEvent[]>(Json);
            }
            catch (JsonException e)
            {
                return Problem(400, "invalid_batch", $"the body is not a JSON array of events: {e.Message}");
            }
            if (batch is null) return Problem(400, "invalid_batch", "the body is not a JSON array of events");
            if (batch.FirstOrDefault(e => Deduction(e) is null) is { } unusable)
            {
                // Acknowledging it would lose it silently: refuse the batch, so the subscription is retried and, if it
                // never changes, listed as stuck for an operator.
                return Problem(422, "not_a_deduction", $"{unusable.Id} is not a message with a payload {{\"sku\", \"quantity\"}}");
            }
            var deduplicator = deduplicators.GetOrAdd(subscription, s => new MessageDeduplicator<LedgerTransaction>(ledger.For(s)));
            var turn = turns.GetOrAdd(subscription, _ => new SemaphoreSlim(1, 1));
            // Not the request's token: once a batch is being applied, finish it, so an abandoned call ends applied or not at all per message.
            await turn.WaitAsync(CancellationToken.None);
            try
            {
                int applied = 0, duplicates = 0;
                foreach (var message in batch)
                {
                    var verdict = await deduplicator.HandleAsync(message, (tx, m, _) =>
                    {
                        var (sku, quantity) = Deduction(m)!.Value;
                        tx.Deduct(m.Sequence, sku, quantity);
                        return ValueTask.CompletedTask;
                    }, CancellationToken.None);
                    if (verdict == DeliveryVerdict.Applied)
                    {
                        applied++;
                        continue;
                    }
                    duplicates++;
                    ledger.RecordDuplicate(subscription, message);
                }
                ledger.Flush(); // the answer acknowledges the batch: only once every effect is on disk
                return Results.Ok(new { applied, duplicates });
            }
            finally
            {
                turn.Release();
            }
        });
        app.MapGet("/ledger", () => Results.Ok(ledger.Snapshot()));
    }

    /// <summary>The sku and quantity a "deduct stock" message carries; null when it is not one.</summary>
    public static (string Sku, long Quantity)? Deduction(MallEvent message)
    {
        if (message.Type != "message" || message.Payload is not { ValueKind: JsonValueKind.Object } payload) return null;
        if (!payload.TryGetProperty("sku", out var sku) || sku.ValueKind != JsonValueKind.String) return null;
        if (!payload.TryGetProperty("quantity", out var quantity) || !quantity.TryGetInt64(out var units) || units <= 0) return null;
        return (sku.GetString()!, units);
    }

    private static IResult Problem(int status, string code, string detail) =>
        Results.Json(new { type = "about:blank", title = "Error", status, code, detail }, Json, "application/problem+json", status);
}
