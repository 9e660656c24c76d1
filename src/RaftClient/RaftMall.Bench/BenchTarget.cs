using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftMall.Bench;

public enum BenchWorkload
{
    Orders,
    KvPut,
    KvGet,
}

/// <summary>
/// What a load generator needs from the system under test: where to send requests, how one request of a workload
/// looks, and the setup a workload needs. RaftMall and etcd get the same key pattern, value size and concurrency.
/// </summary>
public abstract class BenchTarget(string name)
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    public string Name => name;

    /// <summary>The endpoints to load, the leader first (so that `--to leader` measures without a forwarding hop).</summary>
    public abstract Task<Uri[]> ResolveEndpointsAsync(HttpClient http, CancellationToken token);

    /// <summary>The current Raft term (to count elections during a run), or null when no endpoint answers.</summary>
    public abstract Task<long?> TermAsync(HttpClient http, CancellationToken token);

    public abstract bool Supports(BenchWorkload workload);

    /// <summary>Creates what the workload needs (stock for orders, the whole key space for reads).</summary>
    public abstract Task PrepareAsync(HttpClient http, Uri endpoint, BenchWorkload workload, BenchSettings settings, CancellationToken token);

    public abstract HttpRequestMessage Request(Uri endpoint, BenchWorkload workload, long key, string value);

    /// <summary>Wall clock of server processes this tool can see (for the CPU table), by pid.</summary>
    public virtual IReadOnlyList<int> ServerPids() => [];

    /// <summary>The leader's (endpoints[0]) and a follower's metrics for <see cref="WritePath"/>; null when the target has none.</summary>
    public virtual Task<WritePathSample?> SampleWritePathAsync(HttpClient http, Uri[] endpoints, CancellationToken token) => Task.FromResult<WritePathSample?>(null);

    protected static HttpRequestMessage Json(HttpMethod method, Uri uri, string body) =>
        new(method, uri) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) { Headers = { ContentType = JsonType } } };

    protected static async Task<JsonNode?> PostJsonAsync(HttpClient http, Uri uri, string body, CancellationToken token)
    {
        using var request = Json(HttpMethod.Post, uri, body);
        using var response = await http.SendAsync(request, token);
        var text = await response.Content.ReadAsStringAsync(token);
        if (!response.IsSuccessStatusCode) throw new BenchException($"{request.Method} {uri} answered {(int)response.StatusCode}: {Shorten(text)}");
        return JsonNode.Parse(text);
    }

    /// <summary>Runs one request per key with bounded concurrency (setup, not measured).</summary>
    protected static async Task ForEachKeyAsync(long count, int concurrency, Func<long, Task> body, CancellationToken token)
    {
        long next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (var key = Interlocked.Increment(ref next); key < count; key = Interlocked.Increment(ref next))
            {
                token.ThrowIfCancellationRequested();
                await body(key);
            }
        });
        await Task.WhenAll(workers);
    }

    protected static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    protected static string JsonString(string text) => JsonSerializer.Serialize(text, ContractJsonContext.Default.String);

    /// <summary>
    /// The encoded form of a request's value, computed once per value instead of once per request (the value is the
    /// same for a whole run, and this is the load generator's hot path).
    /// </summary>
    protected string EncodedValue(string value, Func<string, string> encode)
    {
        var cached = Volatile.Read(ref _encodedValue);
        if (cached is not null && string.Equals(cached.Value, value, StringComparison.Ordinal)) return cached.Encoded;
        cached = new EncodedValueCache(value, encode(value));
        Volatile.Write(ref _encodedValue, cached);
        return cached.Encoded;
    }

    private EncodedValueCache? _encodedValue;

    private sealed record EncodedValueCache(string Value, string Encoded);
}

/// <summary>A benchmark could not run (a cluster did not start, a setup request failed): exit code 3.</summary>
public sealed class BenchException : Exception
{
    public BenchException() { }
    public BenchException(string message) : base(message) { }
    public BenchException(string message, Exception inner) : base(message, inner) { }
    public BenchException(string message, bool usage) : base(message) => Usage = usage;

    /// <summary>The benchmark was asked for something it cannot do (a bad option, a missing program), not failed by the system under test.</summary>
    public bool Usage { get; }
}
