using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RaftMall.Node.Tests;

/// <summary>What the test participant does with one call.</summary>
public enum Behaviour
{
    Succeed,
    /// <summary>409: a business refusal.</summary>
    Refuse,
    /// <summary>500: a transient failure.</summary>
    Fail,
    /// <summary>Drops the connection without an answer (as a crashed or unreachable participant does).</summary>
    Down,
}

/// <summary>One call the participant received, with the coordinator's headers.</summary>
public sealed record ParticipantCall(string Service, string Gid, string Branch, string Operation, int Attempt, string Mode, string Body, DateTime At);

/// <summary>
/// A real HTTP participant on a free 127.0.0.1 port: POST /{service}/{operation}. It records every call, keeps a
/// barrier per (gid, branch) so it counts each confirm/cancel effect once (and an untried cancel as an empty
/// rollback), and can be told per call to succeed, refuse, fail, drop the connection or answer slowly.
/// </summary>
public sealed class TestParticipant : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<(string Gid, string Branch), string> _barrier = new();

    private TestParticipant(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<ParticipantCall> Calls { get; } = new();

    /// <summary>False: record no calls and effects (for load runs).</summary>
    public bool KeepCalls { get; set; } = true;

    /// <summary>Effects applied exactly once per (gid, branch): "tried", "confirmed", "cancelled", "empty-rollback".</summary>
    public ConcurrentQueue<(string Gid, string Branch, string Effect)> Effects { get; } = new();

    /// <summary>Decides each call's behaviour; default: succeed at once.</summary>
    public Func<ParticipantCall, Behaviour> Rule { get; set; } = _ => Behaviour.Succeed;

    /// <summary>Delay before answering a call; default none.</summary>
    public Func<ParticipantCall, TimeSpan> Delay { get; set; } = _ => TimeSpan.Zero;

    public static async Task<TestParticipant> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var participant = new TestParticipant(app);
        app.MapPost("/{service}/{operation}", participant.HandleAsync);
        await app.StartAsync();
        participant.BaseUrl = app.Urls.Single();
        return participant;
    }

    public string Url(string service, string operation) => $"{BaseUrl}/{service}/{operation}";

    public List<ParticipantCall> CallsFor(string gid) => [.. Calls.Where(c => c.Gid == gid)];

    public List<string> EffectsFor(string gid) => [.. Effects.Where(e => e.Gid == gid).Select(e => $"{e.Branch}:{e.Effect}")];

    private async Task HandleAsync(HttpContext context, string service, string operation)
    {
        if (!KeepCalls)
        {
            context.Response.StatusCode = 200;
            return;
        }
        using var reader = new StreamReader(context.Request.Body);
        var headers = context.Request.Headers;
        var call = new ParticipantCall(service, headers[ParticipantHeaders.Gid].ToString(), headers[ParticipantHeaders.Branch].ToString(), headers[ParticipantHeaders.Operation].ToString(),
            int.TryParse(headers[ParticipantHeaders.Attempt].ToString(), out var attempt) ? attempt : -1, headers[ParticipantHeaders.Mode].ToString(), await reader.ReadToEndAsync(), DateTime.UtcNow);
        Calls.Enqueue(call);
        if (Delay(call) is { } delay && delay > TimeSpan.Zero) await Task.Delay(delay);
        switch (Rule(call))
        {
            case Behaviour.Refuse:
                context.Response.StatusCode = 409;
                await context.Response.WriteAsync("insufficient points");
                return;
            case Behaviour.Fail:
                context.Response.StatusCode = 500;
                return;
            case Behaviour.Down:
                context.Abort();
                return;
        }
        Apply(call);
        context.Response.StatusCode = 200;
    }

    // The barrier: an effect happens once per (gid, branch); a cancel before any try is an empty rollback; a try after its cancel does nothing.
    private void Apply(ParticipantCall call)
    {
        var key = (call.Gid, call.Branch);
        lock (_barrier)
        {
            var state = _barrier.GetValueOrDefault(key);
            string? next = (call.Operation, state) switch
            {
                ("try" or "prepare" or "action", null) => "tried",
                ("confirm" or "commit", "tried") => "confirmed",
                ("cancel" or "rollback" or "compensate", "tried") => "cancelled",
                ("cancel" or "rollback" or "compensate", null) => "empty-rollback",
                _ => null,
            };
            if (next is null) return;
            _barrier[key] = next;
            Effects.Enqueue((call.Gid, call.Branch, next));
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
