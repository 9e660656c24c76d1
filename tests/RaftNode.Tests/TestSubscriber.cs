using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RaftMall.Node.Tests;

/// <summary>One delivery call the subscriber received: the subscription, the attempt, the events' sequences and ids.</summary>
public sealed record SubscriberCall(string Subscription, int Attempt, long[] Sequences, string[] Ids, bool Acknowledged);

/// <summary>
/// A real HTTP push subscriber on a 127.0.0.1 port: POST /{subscription} with a JSON array of events. It records every
/// call, applies each event id once per subscription (a dedup table: a redelivered event is counted as a duplicate,
/// not applied again), and can fail calls or go down (stop listening) and come back on the same port.
/// </summary>
public sealed class TestSubscriber : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<SubscriberCall> _calls = [];
    private readonly Dictionary<string, (List<long> Applied, HashSet<string> Seen, int Duplicates)> _effects = [];
    private WebApplication? _app;
    private int _port;

    public string BaseUrl => $"http://127.0.0.1:{_port}";

    /// <summary>Answers 500 to the subscription's calls while true for it.</summary>
    public Func<string, bool> Fails { get; set; } = _ => false;

    /// <summary>Waits this long before answering a call (to keep deliveries in flight).</summary>
    public TimeSpan Delay { get; set; }

    public string Url(string subscription) => $"{BaseUrl}/{subscription}";

    public static async Task<TestSubscriber> StartAsync()
    {
        var subscriber = new TestSubscriber();
        await subscriber.ListenAsync();
        return subscriber;
    }

    /// <summary>Stops listening: calls are refused until <see cref="ListenAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.DisposeAsync();
        _app = null;
    }

    /// <summary>Listens (again) on its port (a free one the first time).</summary>
    public async Task ListenAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{_port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/{subscription}", HandleAsync);
        await app.StartAsync();
        _port = new Uri(app.Urls.Single()).Port;
        _app = app;
    }

    public List<SubscriberCall> Calls(string subscription)
    {
        lock (_lock) return [.. _calls.Where(c => c.Subscription == subscription)];
    }

    /// <summary>The sequences applied for a subscription, in the order they were applied (each once).</summary>
    public List<long> Applied(string subscription)
    {
        lock (_lock) return _effects.TryGetValue(subscription, out var e) ? [.. e.Applied] : [];
    }

    /// <summary>Redelivered events the dedup table absorbed.</summary>
    public int Duplicates(string subscription)
    {
        lock (_lock) return _effects.TryGetValue(subscription, out var e) ? e.Duplicates : 0;
    }

    private async Task HandleAsync(HttpContext context, string subscription)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var events = body.RootElement.EnumerateArray().Select(e => (Sequence: e.GetProperty("sequence").GetInt64(), Id: e.GetProperty("id").GetString()!)).ToList();
        var attempt = int.TryParse(context.Request.Headers[SubscriptionHeaders.Attempt].ToString(), out var a) ? a : -1;
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay);
        var fails = Fails(subscription);
        lock (_lock)
        {
            _calls.Add(new SubscriberCall(subscription, attempt, [.. events.Select(e => e.Sequence)], [.. events.Select(e => e.Id)], !fails));
            if (!fails)
            {
                // Applied and recorded in one step, as the consumer's local transaction would: a duplicate is acknowledged, not applied.
                var effects = _effects.TryGetValue(subscription, out var found) ? found : ([], new HashSet<string>(StringComparer.Ordinal), 0);
                foreach (var (sequence, id) in events)
                {
                    if (effects.Seen.Add(id)) effects.Applied.Add(sequence);
                    else effects.Duplicates++;
                }
                _effects[subscription] = effects;
            }
        }
        context.Response.StatusCode = fails ? 500 : 200;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
