using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;

namespace RaftMall.Node.Demo;

/// <summary>
/// The order stream's way into the cluster, as a client's: over HTTP to the leader the nodes name (any node when none
/// is known, a follower forwards), each write with an Idempotency-Key that its retries keep, retried on 503, 429 and
/// connection errors until <see cref="RetryBudget"/> runs out. A write that is refused (4xx) or runs out of budget
/// throws <see cref="DemoWriteException"/>.
/// </summary>
public sealed class DemoWriter(HttpClient http, IReadOnlyList<Uri> endpoints, string? apiKey)
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(3);

    public static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(10);

    private int _preferred;

    public async Task WriteAsync(HttpMethod method, string path, object body, string idempotencyKey, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + RetryBudget;
        var delay = TimeSpan.FromMilliseconds(25);
        var last = "no attempt";
        while (true)
        {
            var index = Volatile.Read(ref _preferred);
            using var request = new HttpRequestMessage(method, new Uri(endpoints[index], path)) { Content = JsonContent.Create(body) };
            request.Headers.Add(Contract.RaftMallHeaders.IdempotencyKey, idempotencyKey);
            if (apiKey is { Length: > 0 }) request.Headers.Authorization = new("Bearer", apiKey);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(token);
            attempt.CancelAfter(AttemptTimeout);
            try
            {
                using var response = await http.SendAsync(request, attempt.Token).ConfigureAwait(false);
                Prefer(response);
                if (response.IsSuccessStatusCode) return;
                if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests))
                {
                    throw new DemoWriteException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token).ConfigureAwait(false)}");
                }
                last = $"{(int)response.StatusCode}";
            }
            catch (Exception e) when (!token.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException)
            {
                last = e is HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } ? "connection refused" : e.Message;
                Interlocked.CompareExchange(ref _preferred, (index + 1) % endpoints.Count, index);
            }
            if (DateTime.UtcNow + delay > deadline) throw new DemoWriteException($"no node completed {method} {path} within {RetryBudget.TotalSeconds:F0} s ({last})");
            await Task.Delay(delay, token).ConfigureAwait(false);
            delay = delay * 2 < TimeSpan.FromMilliseconds(400) ? delay * 2 : TimeSpan.FromMilliseconds(400);
        }
    }

    private void Prefer(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(Contract.RaftMallHeaders.Leader, out var values)) return;
        var leader = values.FirstOrDefault();
        for (var i = 0; i < endpoints.Count; i++)
        {
            if (string.Equals(endpoints[i].GetLeftPart(UriPartial.Authority), leader, StringComparison.OrdinalIgnoreCase)) Volatile.Write(ref _preferred, i);
        }
    }
}

/// <summary>A demo write the cluster refused, or that no node completed in time.</summary>
public sealed class DemoWriteException : Exception
{
    public DemoWriteException() { }
    public DemoWriteException(string message) : base(message) { }
    public DemoWriteException(string message, Exception inner) : base(message, inner) { }
}
