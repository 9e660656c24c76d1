using System.Net;
using System.Text.Json;

namespace RaftMall.Harness;

/// <summary>One event as a push subscriber received it: its id and sequence, the leader's stamp, and when it arrived here.</summary>
/// <param name="At">The event's time as the leader stamped it when it proposed the entry (the commit follows within milliseconds).</param>
/// <param name="ReceivedAt">This machine's clock when the call carrying it arrived.</param>
public readonly record struct ReceivedEvent(string Id, long Sequence, DateTimeOffset At, DateTimeOffset ReceivedAt);

/// <summary>
/// A push subscriber inside this process: an HTTP listener on one address and a free port, where every
/// <c>POST /{subscription}</c> is one delivered batch (a JSON array of events). It records every event of every call, in
/// arrival order, per subscription, and answers 204, which acknowledges the batch. Used by <c>raftmall verify</c> (the
/// delivery check) and the delivery benchmark; what it records is raw: repeats included, nothing deduplicated.
/// </summary>
public sealed class PushSubscriber : IAsyncDisposable
{
    /// <summary>Largest batch body read; the node's batches stay far below it (at most 1,000 events of at most ~2 KB payload each).</summary>
    private const int MaxBodyBytes = 16 * 1024 * 1024;

    private readonly HttpListener _listener = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<ReceivedEvent>> _received = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly Task _loop;

    private PushSubscriber(string host, int port)
    {
        BaseUrl = new Uri($"http://{host}:{port}/");
        _listener.Prefixes.Add(BaseUrl.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public Uri BaseUrl { get; }

    /// <summary>
    /// Starts listening on <paramref name="host"/> (127.0.0.1, or an address the nodes reach, such as the bridge's of
    /// <see cref="Network"/>) and a free port.
    /// </summary>
    public static PushSubscriber Start(string host = "127.0.0.1") => new(host, Processes.FreePorts(1)[0]);

    /// <summary>The endpoint to give the subscription named <paramref name="subscription"/>.</summary>
    public string Url(string subscription) => new Uri(BaseUrl, Uri.EscapeDataString(subscription)).ToString();

    /// <summary>Every event received for <paramref name="subscription"/>, in arrival order, repeats included.</summary>
    public List<ReceivedEvent> Received(string subscription)
    {
        lock (_gate) return _received.TryGetValue(subscription, out var events) ? [.. events] : [];
    }

    /// <summary>How many events <paramref name="subscription"/> received, repeats included (cheaper than <see cref="Received"/>).</summary>
    public int ReceivedCount(string subscription)
    {
        lock (_gate) return _received.TryGetValue(subscription, out var events) ? events.Count : 0;
    }

    /// <summary>How many calls (batches) <paramref name="subscription"/> received.</summary>
    public int Calls(string subscription)
    {
        lock (_gate) return _calls.GetValueOrDefault(subscription);
    }

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var subscription = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath.Trim('/'));
            if (context.Request.HttpMethod != "POST" || subscription.Length == 0 || context.Request.ContentLength64 > MaxBodyBytes)
            {
                response.StatusCode = 400;
                return;
            }
            using var body = await JsonDocument.ParseAsync(context.Request.InputStream).ConfigureAwait(false);
            var arrived = DateTimeOffset.UtcNow;
            var events = body.RootElement.EnumerateArray()
                .Select(e => new ReceivedEvent(e.GetProperty("id").GetString()!, e.GetProperty("sequence").GetInt64(), e.GetProperty("at").GetDateTimeOffset(), arrived))
                .ToList();
            lock (_gate)
            {
                if (!_received.TryGetValue(subscription, out var list)) _received[subscription] = list = [];
                list.AddRange(events);
                _calls[subscription] = _calls.GetValueOrDefault(subscription) + 1;
            }
            response.StatusCode = 204;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            response.StatusCode = 400; // not a batch of events: acknowledges nothing
        }
        catch (HttpListenerException)
        {
            // the caller gave up (its timeout); it sends the batch again
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                // the connection is gone
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
    }
}
