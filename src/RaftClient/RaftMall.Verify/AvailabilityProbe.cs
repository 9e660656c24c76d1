using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace RaftMall.Verify;

/// <summary>
/// The cluster's own availability, apart from what the workload's clients add: every <see cref="Interval"/> it sends
/// one small write (PUT of a probe key, outside the checked keys) to every node at once, each allowed
/// <see cref="AttemptTimeout"/> and never retried, and notes when any of them is acknowledged. A window between two
/// acknowledgements is time in which no node could take a write quickly; the workload's windows add its clients'
/// attempt timeouts (a request stuck on a frozen node) and retry pauses on top.
/// </summary>
public sealed class AvailabilityProbe(IReadOnlyList<Uri> endpoints, string apiKey, Stopwatch clock) : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(250);
    public const string Key = "verify-probe";

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) });
    private readonly ConcurrentBag<double> _acks = [];
    private long _sent;

    /// <summary>Seconds into the run at which a probe write was acknowledged.</summary>
    public IReadOnlyList<double> Acknowledged => [.. _acks.Order()];

    public long Sent => Interlocked.Read(ref _sent);

    public async Task RunAsync(CancellationToken stop)
    {
        var inFlight = new List<Task>();
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.AddRange(endpoints.Select(endpoint => WriteAsync(endpoint, stop)));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        await Task.WhenAll(inFlight);
    }

    private async Task WriteAsync(Uri endpoint, CancellationToken stop)
    {
        var sequence = Interlocked.Increment(ref _sent);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(AttemptTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(endpoint, "/api/kv/" + Key))
            {
                Content = new StringContent($$"""{"value":"{{sequence.ToString(CultureInfo.InvariantCulture)}}"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await _http.SendAsync(request, timeout.Token);
            if (response.IsSuccessStatusCode) _acks.Add(clock.Elapsed.TotalSeconds);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // not acknowledged within its time: that is what the probe measures
        }
    }

    public void Dispose() => _http.Dispose();
}
