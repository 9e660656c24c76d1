using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace RaftMall.Node.ContainerTests;

/// <summary>
/// Places orders like a careful client: one Idempotency-Key per order, retried on 503 and connection errors against
/// the next reachable node until acknowledged or the deadline passes. Records what was acknowledged, and when.
/// </summary>
public sealed class OrderWriter(ContainerCluster cluster, string name)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);
    private int _next;

    public List<(long OrderId, TimeSpan At)> Acknowledged { get; } = [];

    /// <summary>Places one order of one <paramref name="sku"/>; returns its id, or null when no node acknowledged it in time.</summary>
    public async Task<long?> PlaceAsync(string sku, Stopwatch clock, TimeSpan giveUpAfter)
    {
        var key = $"{name}-{Interlocked.Increment(ref _next)}";
        var body = new { userId = name, items = new[] { new { sku, quantity = 1 } } };
        var deadline = clock.Elapsed + giveUpAfter;
        for (var attempt = 0; clock.Elapsed < deadline; attempt++)
        {
            var reachable = cluster.Reachable;
            if (reachable.Count > 0)
            {
                var node = reachable[(attempt + name.Length) % reachable.Count];
                try
                {
                    using var response = await cluster.SendAsync(HttpMethod.Post, node, "/api/orders", body, key);
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        var order = (await response.Content.ReadFromJsonAsync<Order>(ContainerCluster.Json))!;
                        lock (Acknowledged) Acknowledged.Add((order.OrderId, clock.Elapsed));
                        return order.OrderId;
                    }
                    if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                    {
                        throw new InvalidOperationException($"POST /api/orders on {node} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    // the node is gone, or its port is not published (yet): try the next one
                }
            }
            await Task.Delay(RetryDelay);
        }
        return null;
    }
}
