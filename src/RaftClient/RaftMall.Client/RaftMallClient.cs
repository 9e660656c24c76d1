using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using RaftMall.Contract;

namespace RaftMall.Client;

/// <summary>How a read is served: through a read barrier (linearizable) or from the answering node's own state.</summary>
public enum ReadConsistency
{
    Linearizable,
    Local,
}

/// <summary>Where the cluster is and how long to keep trying.</summary>
public sealed class RaftMallClientOptions
{
    /// <summary>Any of the cluster's nodes; the client finds the leader itself.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>Time for one attempt against one node.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Total time a call keeps retrying through failovers before it gives up.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The API key sent as <c>Authorization: Bearer</c> (none when null: only an insecure cluster answers).</summary>
    public string? ApiKey { get; init; }

    /// <summary>PEM certificates to trust for https:// nodes besides the system's roots (a private CA or self-signed nodes).</summary>
    public string? TrustedCertificatesFile { get; init; }
}

/// <summary>
/// A client for a RaftMall cluster. Writes carry an Idempotency-Key (generated when the caller gives none) and are
/// retried with the same key on connection loss, 503 and failover, so a retried write applies once. Writes go to the
/// node that last said it leads (saving the follower's forwarding hop). Problem answers become typed exceptions.
/// Thread-safe; share one instance.
/// </summary>
public sealed partial class RaftMallClient : IDisposable
{
    // Every body is a contract type: source-generated metadata, no reflection (the tool is a native executable).
    private static readonly JsonSerializerOptions Json = ContractJsonContext.Default.Options;
    private readonly HttpClient _http;
    private readonly RaftMallClientOptions _options;
    private int _preferred;

    public RaftMallClient(RaftMallClientOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints.Count == 0) throw new ArgumentException("at least one endpoint is required", nameof(options));
        _options = options;
        _http = new HttpClient(handler ?? TrustedCertificates.Handler(options.TrustedCertificatesFile, TimeSpan.FromSeconds(1)))
        {
            Timeout = Timeout.InfiniteTimeSpan, // per-attempt timeouts below
        };

    }

    public IReadOnlyList<Uri> Endpoints => _options.Endpoints;

    public void Dispose() => _http.Dispose();

    /// <summary>Sends one logical request, retrying as described on the class; returns the successful response.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken token, Uri? only = null, long? ifMatch = null)
    {
        var isWrite = method != HttpMethod.Get;
        if (isWrite) idempotencyKey ??= Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow + _options.RetryBudget;
        var delay = TimeSpan.FromMilliseconds(25);
        Exception? lastError = null;
        string lastCode = "unavailable";
        for (var attempt = 0; ; attempt++)
        {
            var index = Volatile.Read(ref _preferred);
            var endpoint = only ?? _options.Endpoints[index];
            using var request = new HttpRequestMessage(method, new Uri(endpoint, path));
            if (body is not null) request.Content = JsonContent.Create(body, Json.GetTypeInfo(body.GetType()));
            if (idempotencyKey is not null) request.Headers.Add(RaftMallHeaders.IdempotencyKey, idempotencyKey);
            if (_options.ApiKey is { Length: > 0 } apiKey) request.Headers.Authorization = new("Bearer", apiKey);
            if (ifMatch is { } revision) request.Headers.TryAddWithoutValidation("If-Match", revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            attemptTimeout.CancelAfter(_options.AttemptTimeout);
            HttpResponseMessage? response = null;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, attemptTimeout.Token).ConfigureAwait(false);
                Prefer(response);
                if (response.IsSuccessStatusCode) return response;
                var problem = await ReadProblemAsync(response, token).ConfigureAwait(false);
                // 503 (no leader, outcome unknown, overloaded) and 429 (rate limited) are worth another attempt.
                if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)) throw ToException((int)response.StatusCode, problem);
                lastCode = problem.Code ?? "unavailable";
                lastError = new RaftMallException((int)response.StatusCode, lastCode, problem.Detail ?? "service unavailable");
                if (response.Headers.RetryAfter?.Delta is { } retryAfter) delay = Min(retryAfter, TimeSpan.FromSeconds(1));
                response.Dispose();
            }
            catch (Exception e) when (!token.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException)
            {
                response?.Dispose();
                lastError = e;
                lastCode = e is HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } ? "connection_refused" : "no_answer";
                if (only is null) Interlocked.CompareExchange(ref _preferred, (index + 1) % _options.Endpoints.Count, index);
            }
            if (DateTime.UtcNow + delay > deadline)
            {
                var what = only?.ToString() ?? string.Join(", ", _options.Endpoints.Select(e => e.Authority));
                throw new RaftMallUnavailableException(lastCode,
                    $"no node of {what} completed {method} {path} within {_options.RetryBudget.TotalSeconds:F0} s ({lastError?.Message})" +
                    (isWrite ? $"; the outcome may be unknown: retry with Idempotency-Key {idempotencyKey}" : ""), lastError);
            }
            await Task.Delay(delay, token).ConfigureAwait(false);
            delay = Min(delay * 2, TimeSpan.FromMilliseconds(400));
        }
    }

    private void Prefer(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(RaftMallHeaders.Leader, out var values)) return;
        var leader = values.FirstOrDefault();
        for (var i = 0; i < _options.Endpoints.Count; i++)
        {
            if (string.Equals(_options.Endpoints[i].GetLeftPart(UriPartial.Authority), leader, StringComparison.OrdinalIgnoreCase))
            {
                Volatile.Write(ref _preferred, i);
                return;
            }
        }
    }

    private static async Task<ProblemBody> ReadProblemAsync(HttpResponseMessage response, CancellationToken token)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(ContractJsonContext.Default.ProblemBody, token).ConfigureAwait(false)
                ?? new ProblemBody((int)response.StatusCode, null, response.ReasonPhrase, null);
        }
        catch (JsonException)
        {
            return new ProblemBody((int)response.StatusCode, null, response.ReasonPhrase, null);
        }
    }

    private static RaftMallException ToException(int status, ProblemBody problem)
    {
        var code = problem.Code ?? "http_" + status;
        var detail = problem.Detail ?? problem.Title ?? "no detail";
        return status switch
        {
            404 => new RaftMallNotFoundException(status, code, detail),
            409 or 412 => new RaftMallConflictException(status, code, detail),
            400 or 413 or 422 => new RaftMallValidationException(status, code, detail),
            _ => new RaftMallException(status, code, detail),
        };
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken token)
    {
        using (response)
        {
            return await response.Content.ReadFromJsonAsync((System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Json.GetTypeInfo(typeof(T)), token).ConfigureAwait(false)
                ?? throw new RaftMallException(0, "empty_answer", "the node answered without a body");
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static string Query(ReadConsistency consistency) => consistency == ReadConsistency.Local ? "consistency=local" : "";
}
