using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RaftMall.Contract;

namespace RaftMall.Client;

/// <summary>How a read is served: through a read barrier (linearizable) or from the answering node's own state.</summary>
public enum ReadConsistency
{
    /// <summary>The node runs a Raft read barrier through the leader first: the read sees every write acknowledged before it began.</summary>
    Linearizable,

    /// <summary>The node answers from its own state at once (<c>?consistency=local</c>): faster, possibly stale, and served without a leader.</summary>
    Local,
}

/// <summary>
/// A client for a RaftMall cluster. Writes carry an Idempotency-Key (generated when the caller gives none) and are
/// retried with the same key on connection loss, 503 and failover, so a retried write applies once. Writes go to the
/// node that last said it leads (saving the follower's forwarding hop); a node that does not answer, or answers 503
/// knowing no leader (<c>not_leader</c>, <c>outcome_unknown</c>, <c>no_leader</c>), is passed over for the next one.
/// Problem answers become typed exceptions.
/// Thread-safe; share one instance.
/// </summary>
public sealed partial class RaftMallClient : IDisposable
{
    // Every body is a contract type: source-generated metadata, no reflection (the tool is a native executable).
    private static readonly JsonSerializerOptions Json = ContractJsonContext.Default.Options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly RaftMallClientOptions _options;
    private readonly LeaderHint _leader;
    private readonly ILogger _logger;

    /// <summary>
    /// A client with its own connections (for programs without dependency injection; with it, register one through
    /// <see cref="RaftMallServiceCollectionExtensions.AddRaftMallClient"/>). Share the instance: it keeps the leader hint.
    /// </summary>
    /// <param name="options">Where the cluster is; checked here (an <see cref="ArgumentException"/> says what is wrong).</param>
    /// <param name="handler">The HTTP handler to send through (tests, proxies); by default one that trusts
    /// <see cref="RaftMallClientOptions.TrustedCertificatesFile"/>.</param>
    public RaftMallClient(RaftMallClientOptions options, HttpMessageHandler? handler = null)
        : this(OwnHttpClient(options, handler), options, new LeaderHint(), NullLogger.Instance, ownsHttp: true)
    {
    }

    /// <summary>The dependency-injection path: connections from <c>IHttpClientFactory</c>, the leader hint shared by every instance.</summary>
    internal RaftMallClient(HttpClient http, RaftMallClientOptions options, LeaderHint leader, ILogger logger, bool ownsHttp)
    {
        _http = http;
        _options = options;
        _leader = leader;
        _logger = logger;
        _ownsHttp = ownsHttp;
    }

    /// <summary>The nodes this client talks to, as configured.</summary>
    public IReadOnlyList<Uri> Endpoints => _options.Endpoints;

    /// <summary>Closes the client's connections when it made them itself (a client from the factory leaves them to it).</summary>
    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    private static HttpClient OwnHttpClient(RaftMallClientOptions options, HttpMessageHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (RaftMallClientOptions.Problems(options).FirstOrDefault() is { } problem) throw new ArgumentException(problem, nameof(options));
        return new HttpClient(handler ?? RaftMallClientOptions.DefaultHandler(options)) { Timeout = Timeout.InfiniteTimeSpan }; // per-attempt timeouts below
    }

    /// <summary>Sends one logical request, retrying as described on the class; returns the successful response.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken token, Uri? only = null, long? ifMatch = null, TimeSpan serverWait = default)
    {
        var isWrite = method != HttpMethod.Get;
        if (isWrite) idempotencyKey ??= Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow + _options.RetryBudget;
        var delay = TimeSpan.FromMilliseconds(25);
        Exception? lastError = null;
        string lastCode = "unavailable";
        for (var attempt = 0; ; attempt++)
        {
            var index = _leader.Preferred;
            var endpoint = only ?? _options.Endpoints[index];
            using var request = new HttpRequestMessage(method, new Uri(endpoint, path));
            if (body is not null) request.Content = JsonContent.Create(body, Json.GetTypeInfo(body.GetType()));
            if (idempotencyKey is not null) request.Headers.Add(RaftMallHeaders.IdempotencyKey, idempotencyKey);
            if (_options.ApiKey is { Length: > 0 } apiKey) request.Headers.Authorization = new("Bearer", apiKey);
            if (ifMatch is { } revision) request.Headers.TryAddWithoutValidation("If-Match", revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            // A long poll or a transaction's wait holds the answer on purpose: that time is added to the attempt's.
            attemptTimeout.CancelAfter(_options.AttemptTimeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : _options.AttemptTimeout + serverWait);
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
                if (only is null && IsLeaderless(lastCode) && !NamesLeader(response))
                {
                    // This node has no leader to offer (it lost leadership, or an election is under way, or it is cut
                    // off): another may already know the new one. Retrying here after the answer's Retry-After (1 s,
                    // HTTP's least) held each client of a cut-off leader ~2 s in `raftmall verify`; the next node, at
                    // the usual short backoff, answers as soon as the others have elected.
                    if (_leader.MoveOn(index, _options.Endpoints.Count)) ClientLog.NodeLeaderless(_logger, endpoint.Authority, lastCode, _options.Endpoints[(index + 1) % _options.Endpoints.Count].Authority);
                }
                else if (response.Headers.RetryAfter?.Delta is { } retryAfter) delay = Min(retryAfter, TimeSpan.FromSeconds(1));
                response.Dispose();
                ClientLog.Retrying(_logger, method, path, endpoint.Authority, lastCode, attempt + 1);
            }
            // A connection that breaks while it is set up can surface as a bare SocketException (ENOTCONN from the pool
            // reading the remote end point; seen by `raftmall verify --seed 777`): a failed attempt like any other.
            catch (Exception e) when (!token.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException or SocketException)
            {
                response?.Dispose();
                lastError = e;
                lastCode = e is HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } ? "connection_refused" : "no_answer";
                if (only is null && _leader.MoveOn(index, _options.Endpoints.Count)) ClientLog.NodeUnreachable(_logger, endpoint.Authority, lastCode, _options.Endpoints[(index + 1) % _options.Endpoints.Count].Authority);
                ClientLog.Retrying(_logger, method, path, endpoint.Authority, lastCode, attempt + 1);
            }
            if (DateTime.UtcNow + delay > deadline)
            {
                var what = only?.ToString() ?? string.Join(", ", _options.Endpoints.Select(e => e.Authority));
                throw new RaftMallUnavailableException(lastCode,
                    $"no node of {what} completed {method} {path} within {_options.RetryBudget.TotalSeconds:F0} s ({lastError?.Message})" +
                    (isWrite ? $"; the outcome may be unknown: retry with Idempotency-Key {idempotencyKey}" : ""), lastError);
            }
            await Task.Delay(Jitter(delay), token).ConfigureAwait(false);
            delay = Min(delay * 2, TimeSpan.FromMilliseconds(400));
        }
    }

    private static bool IsLeaderless(string code) => code is ProblemCodes.NotLeader or ProblemCodes.OutcomeUnknown or ProblemCodes.NoLeader;

    private static bool NamesLeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues(RaftMallHeaders.Leader, out var values) && values.Any(v => v.Length > 0);

    private void Prefer(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(RaftMallHeaders.Leader, out var values)) return;
        var leader = values.FirstOrDefault();
        for (var i = 0; i < _options.Endpoints.Count; i++)
        {
            if (string.Equals(_options.Endpoints[i].GetLeftPart(UriPartial.Authority), leader, StringComparison.OrdinalIgnoreCase))
            {
                if (_leader.Prefer(i)) ClientLog.LeaderChanged(_logger, leader!);
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

    /// <summary>Between half and all of <paramref name="delay"/>: clients that lost the same leader do not retry in step.</summary>
    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.5 + (Random.Shared.NextDouble() / 2));

    private static string Query(ReadConsistency consistency) => consistency == ReadConsistency.Local ? "consistency=local" : "";
}
