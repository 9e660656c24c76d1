using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace RaftMall.TestSupport;

/// <summary>
/// A test client that writes like a careful real one: an Idempotency-Key per logical write, retried on 503 and
/// connection errors against the next node until acknowledged or the deadline passes. It records what was acknowledged.
/// </summary>
public sealed class Writer(TestCluster cluster, string name, string? onlyNode = null)
{
    private int _next;

    public List<(long OrderId, string Key, TimeSpan At)> AckedOrders { get; } = [];
    public List<(string Key, long Revision, TimeSpan At)> AckedPuts { get; } = [];
    public int Unknown { get; private set; }

    /// <summary>Places one order and retries it with the same key; returns the order id or null when it gave up.</summary>
    public async Task<long?> PlaceOrderAsync(string sku, Stopwatch clock, TimeSpan giveUpAfter, bool retry = true)
    {
        var key = $"{name}-order-{Interlocked.Increment(ref _next)}";
        var body = new { userId = name, items = new[] { new { sku, quantity = 1 } } };
        var response = await SendWithRetriesAsync(HttpMethod.Post, "/api/orders", body, key, giveUpAfter, retry);
        if (response is null) return null;
        var order = (await response.Content.ReadFromJsonAsync<Order>(TestCluster.Json))!;
        lock (AckedOrders) AckedOrders.Add((order.OrderId, key, clock.Elapsed));
        return order.OrderId;
    }

    /// <summary>Puts a unique key and records its acknowledged revision.</summary>
    public async Task PutAsync(Stopwatch clock, TimeSpan giveUpAfter, bool retry = true)
    {
        var key = $"{name}-kv-{Interlocked.Increment(ref _next)}";
        var response = await SendWithRetriesAsync(HttpMethod.Put, "/api/kv/" + key, new { value = key }, key, giveUpAfter, retry);
        if (response is null) return;
        var entry = (await response.Content.ReadFromJsonAsync<KvEntry>(TestCluster.Json))!;
        lock (AckedPuts) AckedPuts.Add((key, entry.Revision, clock.Elapsed));
    }

    public async Task<HttpResponseMessage?> SendWithRetriesAsync(HttpMethod method, string path, object body, string key, TimeSpan giveUpAfter, bool retry)
    {
        var deadline = DateTime.UtcNow + giveUpAfter;
        var attempt = 0;
        while (true)
        {
            var running = cluster.NodeIds.Where(cluster.IsRunning).ToList();
            if (running.Count == 0) return null;
            var node = onlyNode ?? running[(attempt++ + Math.Abs(name.GetHashCode(StringComparison.Ordinal))) % running.Count];
            try
            {
                var response = await cluster.SendAsync(method, node, path, body, key);
                if (response.IsSuccessStatusCode) return response;
                var status = response.StatusCode;
                response.Dispose();
                if (status != HttpStatusCode.ServiceUnavailable) throw new InvalidOperationException($"{method} {path} answered {(int)status}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // connection refused or reset: try the next node
            }
            if (!retry || DateTime.UtcNow >= deadline)
            {
                Unknown++;
                return null;
            }
            await Task.Delay(20);
        }
    }
}
