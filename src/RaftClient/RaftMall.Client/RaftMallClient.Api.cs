using RaftMall.Contract;

namespace RaftMall.Client;

// One method per API call of api.md.
public sealed partial class RaftMallClient
{
    public async Task<StockLevel> SetStockAsync(string sku, long available, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<StockLevel>(await SendAsync(HttpMethod.Put, $"/api/stock/{Uri.EscapeDataString(sku)}", new StockRequest(available), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<StockLevel> GetStockAsync(string sku, ReadConsistency consistency = ReadConsistency.Linearizable, CancellationToken token = default) =>
        await ReadAsync<StockLevel>(await SendAsync(HttpMethod.Get, $"/api/stock/{Uri.EscapeDataString(sku)}?{Query(consistency)}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<StockLevel[]> ListStockAsync(ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<StockLevel[]>(await SendAsync(HttpMethod.Get, $"/api/stock?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<SubmitToken> IssueTokenAsync(string userId, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<SubmitToken>(await SendAsync(HttpMethod.Post, "/api/orders/tokens", new TokenRequest(userId), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>Places an order; locks stock for every line or none. Pass the submit token to protect against double submits.</summary>
    public async Task<Order> PlaceOrderAsync(string userId, IEnumerable<OrderLine> items, string? submitToken = null, int? ttlSeconds = null, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Post, "/api/orders", new PlaceOrderRequest(userId, submitToken, [.. items.Select(i => i.ToRequest())], ttlSeconds), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<Order> PayOrderAsync(long orderId, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Post, $"/api/orders/{orderId}/pay", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<Order> CancelOrderAsync(long orderId, string? idempotencyKey = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Post, $"/api/orders/{orderId}/cancel", null, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<Order> GetOrderAsync(long orderId, ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<Order>(await SendAsync(HttpMethod.Get, $"/api/orders/{orderId}?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task<OrderPage> ListOrdersAsync(string? userId = null, string? status = null, long after = 0, int limit = 100,
        ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default)
    {
        var query = $"after={after}&limit={limit}&{Query(consistency)}";
        if (userId is not null) query += "&userId=" + Uri.EscapeDataString(userId);
        if (status is not null) query += "&status=" + Uri.EscapeDataString(status);
        return await ReadAsync<OrderPage>(await SendAsync(HttpMethod.Get, "/api/orders?" + query, null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>Every order, page by page (from one node when <paramref name="node"/> is given).</summary>
    public async IAsyncEnumerable<Order> AllOrdersAsync(ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token = default)
    {
        long after = 0;
        while (true)
        {
            var page = await ListOrdersAsync(after: after, limit: 1_000, consistency: consistency, node: node, token: token).ConfigureAwait(false);
            foreach (var order in page.Orders) yield return order;
            if (page.NextAfter is not { } next) yield break;
            after = next;
        }
    }

    /// <summary>Puts a value; with <paramref name="expectedRevision"/> only if the key is at that revision (0: only if absent).</summary>
    public async Task<KvEntry> PutAsync(string key, string value, long? expectedRevision = null, string? idempotencyKey = null, CancellationToken token = default)
    {
        var path = "/api/kv/" + EscapeKey(key);
        if (expectedRevision is null) return await ReadAsync<KvEntry>(await SendAsync(HttpMethod.Put, path, new KvPutRequest(value), idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
        return await ReadAsync<KvEntry>(await SendIfMatchAsync(HttpMethod.Put, path, new KvPutRequest(value), expectedRevision.Value, idempotencyKey, token).ConfigureAwait(false), token).ConfigureAwait(false);
    }

    /// <summary>Reads a key; with <paramref name="node"/>, from that node only (no failover).</summary>
    public async Task<KvEntry> GetAsync(string key, ReadConsistency consistency = ReadConsistency.Linearizable, Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<KvEntry>(await SendAsync(HttpMethod.Get, $"/api/kv/{EscapeKey(key)}?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    public async Task DeleteAsync(string key, long? expectedRevision = null, string? idempotencyKey = null, CancellationToken token = default)
    {
        var path = "/api/kv/" + EscapeKey(key);
        var response = expectedRevision is null
            ? await SendAsync(HttpMethod.Delete, path, null, idempotencyKey, token).ConfigureAwait(false)
            : await SendIfMatchAsync(HttpMethod.Delete, path, null, expectedRevision.Value, idempotencyKey, token).ConfigureAwait(false);
        response.Dispose();
    }

    public async Task<EventPage> ReadEventsAsync(long after = 0, int limit = 100, int waitSeconds = 0, CancellationToken token = default) =>
        await ReadAsync<EventPage>(await SendAsync(HttpMethod.Get, $"/api/events?after={after}&limit={limit}&waitSeconds={waitSeconds}", null, null, token).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>One node's view of the cluster; without <paramref name="node"/>, the first node that answers.</summary>
    public async Task<ClusterStatus> GetClusterStatusAsync(Uri? node = null, CancellationToken token = default) =>
        await ReadAsync<ClusterStatus>(await SendAsync(HttpMethod.Get, "/api/cluster", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    /// <summary>
    /// One node's status within <paramref name="timeout"/>, no retries; null when it does not answer. For probes and
    /// tools. <paramref name="trustedCertificatesFile"/> is the CA to trust for an https:// node, as in the options.
    /// </summary>
    public static async Task<ClusterStatus?> TryGetClusterStatusAsync(Uri node, string? apiKey, TimeSpan timeout, string? trustedCertificatesFile = null, CancellationToken token = default)
    {
        using var quick = new RaftMallClient(new RaftMallClientOptions
        {
            Endpoints = [node],
            ApiKey = apiKey,
            AttemptTimeout = timeout,
            RetryBudget = TimeSpan.Zero,
            TrustedCertificatesFile = trustedCertificatesFile,
        });
        try
        {
            return await quick.GetClusterStatusAsync(node, token).ConfigureAwait(false);
        }
        catch (RaftMallException)
        {
            return null;
        }
    }

    public async Task<StateHash> GetStateHashAsync(Uri node, ReadConsistency consistency = ReadConsistency.Local, CancellationToken token = default) =>
        await ReadAsync<StateHash>(await SendAsync(HttpMethod.Get, $"/api/cluster/state-hash?{Query(consistency)}", null, null, token, node).ConfigureAwait(false), token).ConfigureAwait(false);

    private Task<HttpResponseMessage> SendIfMatchAsync(HttpMethod method, string path, object? body, long revision, string? idempotencyKey, CancellationToken token) =>
        SendAsync(method, path, body, idempotencyKey, token, ifMatch: revision);

    private static string EscapeKey(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));
}
