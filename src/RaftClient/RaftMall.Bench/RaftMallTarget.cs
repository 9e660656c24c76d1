using System.Globalization;
using RaftMall.Client;
using RaftMall.Harness;

namespace RaftMall.Bench;

/// <summary>
/// RaftMall's HTTP API: kv-put is PUT /api/kv/{key}, kv-get a linearizable GET, orders POST /api/orders; every request
/// with <paramref name="apiKey"/> (the bench measures an authenticated API).
/// </summary>
public sealed class RaftMallTarget(ClusterFile cluster, string? apiKey) : BenchTarget("raftmall")
{
    /// <summary>Orders spread over this many skus (each stocked far beyond what a run can sell).</summary>
    public const int SkuCount = 100;
    private const int UserCount = 1_000;
    private const long StockPerSku = 1_000_000_000; // the API's maximum; 100 skus hold far more than any run sells

    public override bool Supports(BenchWorkload workload) => true;

    public override async Task<Uri[]> ResolveEndpointsAsync(HttpClient http, CancellationToken token)
    {
        var nodes = cluster.Nodes.Select(n => n.Uri).ToArray();
        foreach (var node in nodes)
        {
            var status = await RaftMallClient.TryGetClusterStatusAsync(node, apiKey, TimeSpan.FromSeconds(2), cluster.CaFilePath, token);
            if (status?.LeaderId is not { } leaderId) continue;
            var leader = cluster.Nodes.Find(n => n.Id == leaderId)?.Uri;
            if (leader is not null) return [leader, .. nodes.Where(n => n != leader)];
        }
        throw new BenchException($"no RaftMall node of {cluster.SourcePath} knows a leader; start the cluster with `raftmall cluster up`");
    }

    public override async Task<long?> TermAsync(HttpClient http, CancellationToken token)
    {
        foreach (var node in cluster.Nodes)
        {
            if (await RaftMallClient.TryGetClusterStatusAsync(node.Uri, apiKey, TimeSpan.FromSeconds(2), cluster.CaFilePath, token) is { } status) return status.Term;
        }
        return null;
    }

    public override async Task PrepareAsync(HttpClient http, Uri endpoint, BenchWorkload workload, BenchSettings settings, CancellationToken token)
    {
        if (workload == BenchWorkload.Orders)
        {
            await ForEachKeyAsync(SkuCount, 16, async sku =>
            {
                await SendSetupAsync(http, () => Authorized(Json(HttpMethod.Put, new Uri(endpoint, $"/api/stock/bench-{sku}"), $$"""{"available":{{StockPerSku}}}""")), token);
            }, token);
        }
        else if (workload == BenchWorkload.KvGet)
        {
            // Reads need every key to exist; a marker records that this key space was filled already.
            var marker = $"{settings.Keys}:{settings.ValueSize}";
            using (var check = Authorized(new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, "/api/kv/bench-preloaded"))))
            using (var response = await http.SendAsync(check, token))
            {
                if (response.IsSuccessStatusCode && (await response.Content.ReadAsStringAsync(token)).Contains($"\"{marker}\"", StringComparison.Ordinal)) return;
            }
            var value = BenchSettings.Value(settings.ValueSize);
            await ForEachKeyAsync(settings.Keys, 64, async key =>
            {
                await SendSetupAsync(http, () => Request(endpoint, BenchWorkload.KvPut, key, value), token);
            }, token);
            await SendSetupAsync(http, () => Authorized(Json(HttpMethod.Put, new Uri(endpoint, "/api/kv/bench-preloaded"), $$"""{"value":"{{marker}}"}""")), token);
        }
    }

    public override HttpRequestMessage Request(Uri endpoint, BenchWorkload workload, long key, string value) => Authorized(workload switch
    {
        BenchWorkload.KvPut => Json(HttpMethod.Put, new Uri(endpoint, "/api/kv/bench-" + key.ToString(CultureInfo.InvariantCulture)), $$"""{"value":{{EncodedValue(value, JsonString)}}}"""),
        BenchWorkload.KvGet => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, "/api/kv/bench-" + key.ToString(CultureInfo.InvariantCulture))),
        BenchWorkload.Orders => Json(HttpMethod.Post, new Uri(endpoint, "/api/orders"),
            $$"""{"userId":"bench-u{{key % UserCount}}","items":[{"sku":"bench-{{key % SkuCount}}","quantity":1}],"ttlSeconds":3600}"""),
        _ => throw new ArgumentOutOfRangeException(nameof(workload)),
    });

    /// <summary>The request with the bench's key.</summary>
    private HttpRequestMessage Authorized(HttpRequestMessage request)
    {
        if (apiKey is { Length: > 0 }) request.Headers.Authorization = new("Bearer", apiKey);
        return request;
    }

    public override IReadOnlyList<int> ServerPids()
    {
        return [.. cluster.Nodes.Select(n => NodeFiles.RunningPid(cluster, n.Id)).OfType<int>()];
    }

    public override async Task<WritePathSample?> SampleWritePathAsync(HttpClient http, Uri[] endpoints, CancellationToken token)
    {
        var leader = await ScrapeAsync(http, endpoints[0], token);
        if (leader is null) return null;
        return new WritePathSample(leader, endpoints.Length > 1 ? await ScrapeAsync(http, endpoints[1], token) : null);
    }

    private Task<MetricsPage?> ScrapeAsync(HttpClient http, Uri node, CancellationToken token) =>
        MetricsPage.ScrapeAsync(http, Authorized(new HttpRequestMessage(HttpMethod.Get, new Uri(node, "/metrics"))), token);

    /// <summary>
    /// Sends a setup write (a PUT: repeating it changes nothing), retried for up to <see cref="SetupRetryLimit"/> while
    /// the cluster answers 503 or 429 (an election, a write whose outcome is unknown, a full queue).
    /// </summary>
    private static async Task SendSetupAsync(HttpClient http, Func<HttpRequestMessage> create, CancellationToken token)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var request = create();
            using var response = await http.SendAsync(request, token);
            if (response.IsSuccessStatusCode) return;
            var status = (int)response.StatusCode;
            if (status is not (503 or 429) || clock.Elapsed > SetupRetryLimit)
            {
                throw new BenchException($"setup {request.Method} {request.RequestUri} answered {status}: {Shorten(await response.Content.ReadAsStringAsync(token))}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), token);
        }
    }

    private static readonly TimeSpan SetupRetryLimit = TimeSpan.FromSeconds(30);
}
