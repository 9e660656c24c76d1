using System.Globalization;
using System.Text;

namespace RaftMall.Bench;

/// <summary>
/// etcd's v3 HTTP/JSON gateway (/v3/kv/put, /v3/kv/range; keys and values base64): the same keys, values and
/// concurrency as RaftMall's kv workloads. Range reads are linearizable, etcd's default, like RaftMall's GET.
/// </summary>
public sealed class EtcdTarget(IReadOnlyList<Uri> endpoints, Func<IReadOnlyList<int>>? pids = null) : BenchTarget("etcd")
{
    public override bool Supports(BenchWorkload workload) => workload is BenchWorkload.KvPut or BenchWorkload.KvGet;

    public override async Task<Uri[]> ResolveEndpointsAsync(HttpClient http, CancellationToken token)
    {
        foreach (var endpoint in endpoints)
        {
            try
            {
                var status = await PostJsonAsync(http, new Uri(endpoint, "/v3/maintenance/status"), "{}", token);
                var self = status?["header"]?["member_id"]?.GetValue<string>();
                var leader = status?["leader"]?.GetValue<string>();
                if (self is null || leader is null) continue;
                if (self == leader) return [endpoint, .. endpoints.Where(e => e != endpoint)];
                foreach (var other in endpoints.Where(e => e != endpoint))
                {
                    var otherStatus = await PostJsonAsync(http, new Uri(other, "/v3/maintenance/status"), "{}", token);
                    if (otherStatus?["header"]?["member_id"]?.GetValue<string>() == leader) return [other, .. endpoints.Where(e => e != other)];
                }
            }
            catch (HttpRequestException)
            {
            }
        }
        throw new BenchException($"no etcd member at {string.Join(", ", endpoints)} knows a leader");
    }

    public override async Task<long?> TermAsync(HttpClient http, CancellationToken token)
    {
        foreach (var endpoint in endpoints)
        {
            try
            {
                var status = await PostJsonAsync(http, new Uri(endpoint, "/v3/maintenance/status"), "{}", token);
                if (status?["raftTerm"]?.GetValue<string>() is { } term) return long.Parse(term, CultureInfo.InvariantCulture);
            }
            catch (HttpRequestException)
            {
            }
        }
        return null;
    }

    public override async Task PrepareAsync(HttpClient http, Uri endpoint, BenchWorkload workload, BenchSettings settings, CancellationToken token)
    {
        if (workload != BenchWorkload.KvGet) return;
        var marker = Base64($"{settings.Keys}:{settings.ValueSize}");
        var found = await PostJsonAsync(http, new Uri(endpoint, "/v3/kv/range"), $$"""{"key":"{{Base64("bench-preloaded")}}"}""", token);
        if (found?["kvs"]?[0]?["value"]?.GetValue<string>() == marker) return;
        var value = BenchSettings.Value(settings.ValueSize);
        await ForEachKeyAsync(settings.Keys, 64, async key =>
        {
            using var request = Request(endpoint, BenchWorkload.KvPut, key, value);
            using var response = await http.SendAsync(request, token);
            if (!response.IsSuccessStatusCode) throw new BenchException($"etcd preload answered {(int)response.StatusCode}");
        }, token);
        await PostJsonAsync(http, new Uri(endpoint, "/v3/kv/put"), $$"""{"key":"{{Base64("bench-preloaded")}}","value":"{{marker}}"}""", token);
    }

    public override HttpRequestMessage Request(Uri endpoint, BenchWorkload workload, long key, string value)
    {
        var encodedKey = Base64("bench-" + key.ToString(CultureInfo.InvariantCulture));
        return workload switch
        {
            BenchWorkload.KvPut => Json(HttpMethod.Post, new Uri(endpoint, "/v3/kv/put"), $$"""{"key":"{{encodedKey}}","value":"{{EncodedValue(value, Base64)}}"}"""),
            BenchWorkload.KvGet => Json(HttpMethod.Post, new Uri(endpoint, "/v3/kv/range"), $$"""{"key":"{{encodedKey}}"}"""),
            _ => throw new BenchException("etcd has no orders; compare RaftMall's orders with etcd's kv-put"),
        };
    }

    public override IReadOnlyList<int> ServerPids() => pids?.Invoke() ?? [];

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
