using System.Net.Http.Headers;
using System.Net.Mime;
using System.Text.Json;
using RaftMall.Node.Api;
using RaftMall.Node.Consensus;
using RaftMall.Node.Dashboard;

namespace RaftMall.Node.Demo;

/// <summary>
/// The demo control panel's endpoints, mapped only when the demo switch is on (otherwise they do not exist: 404).
/// They are not Raft writes: each acts where it must (the node to kill, a node that can start a process, a follower
/// to run the order stream so that killing the leader does not stop it) and forwards there itself.
/// </summary>
public static class DemoEndpoints
{
    public const string ClientName = "demo-forwarding";

    /// <summary>Time between a kill's answer and the kill, for the answer to leave the machine's socket buffers.</summary>
    public const int AnswerDeliveryMs = 50;

    public static IServiceCollection AddDemo(this IServiceCollection services, ClusterFile cluster)
    {
        services.AddSingleton<OrderFeed>();
        services.AddSingleton<MemberProcesses>();
        var caFile = cluster.CaFilePath;
        services.AddHttpClient(ClientName, c => c.Timeout = TimeSpan.FromSeconds(3))
            .ConfigurePrimaryHttpMessageHandler(() => Contract.TrustedCertificates.Handler(caFile, TimeSpan.FromSeconds(1)));
        return services;
    }

    public static IEndpointRouteBuilder MapDemo(this IEndpointRouteBuilder app)
    {
        var demo = app.MapGroup("/api/demo").WithTags("Demo").RequireCors(CrossOrigin.DemoPolicy);

        demo.MapGet("/", (NodeSettings settings, OrderFeed stream) =>
            Results.Ok(new DemoStatusView(settings.NodeId, Environment.ProcessId, stream.Current)))
            .WithSummary("Demo mode only: this node's id and process, and the order stream it runs, with the write gaps it measured")
            .Produces<DemoStatusView>();

        demo.MapPost("/orders/start", async (HttpContext context, IConsensus consensus, NodeSettings settings, OrderFeed stream, IHttpClientFactory clients) =>
        {
            if (RequireJson(context.Request) is { } notJson) return notJson;
            var (body, problem) = await JsonBody.ReadAsync<StartStreamRequest>(context.Request, context.RequestAborted);
            if (problem is not null) return problem;
            var rate = body!.OrdersPerSecond ?? OrderFeed.DefaultOrdersPerSecond;
            var seconds = body.DurationSeconds ?? OrderFeed.DefaultDurationSeconds;
            if (rate is < 1 or > OrderFeed.MaxOrdersPerSecond) return Problems.Validation($"ordersPerSecond is between 1 and {OrderFeed.MaxOrdersPerSecond}");
            if (seconds is < 1 or > OrderFeed.MaxDurationSeconds) return Problems.Validation($"durationSeconds is between 1 and {OrderFeed.MaxDurationSeconds}");
            // The leader is the node a demo kills: run the stream on a follower so that it survives the kill.
            if (consensus.IsLeader && body.ContinueFrom is null)
            {
                var payload = JsonSerializer.SerializeToUtf8Bytes(body, JsonBody.Options);
                foreach (var follower in consensus.Members.Where(n => n.Id != settings.NodeId))
                {
                    if (await TryForwardAsync(context, clients, new Uri(follower.Uri, "/api/demo/orders/start"), payload)) return Results.Empty;
                }
            }
            return stream.TryStart(rate, TimeSpan.FromSeconds(seconds), body.ContinueFrom)
                ? Results.Accepted(value: new DemoStatusView(settings.NodeId, Environment.ProcessId, stream.Current))
                : Problems.Of(StatusCodes.Status409Conflict, "stream_running", $"node {settings.NodeId} already runs an order stream; stop it first");
        })
        .WithSummary("Demo mode only: start a bounded stream of orders (on a follower when this node leads)")
        .Produces<DemoStatusView>(StatusCodes.Status202Accepted).JsonBodyOf<StartStreamRequest>().Refuses(409, "stream_running").Refuses(415, "unsupported_media_type");

        demo.MapPost("/orders/stop", (HttpRequest request, NodeSettings settings, OrderFeed stream) =>
        {
            if (RequireJson(request) is { } notJson) return notJson;
            stream.Stop();
            return Results.Ok(new DemoStatusView(settings.NodeId, Environment.ProcessId, stream.Current));
        })
        .WithSummary("Demo mode only: stop the order stream this node runs")
        .Produces<DemoStatusView>().Refuses(415, "unsupported_media_type");

        demo.MapPost("/kill-leader", async (HttpContext context, IConsensus consensus, NodeSettings settings, IHttpClientFactory clients, OrderFeed stream, MemberProcesses processes) =>
        {
            if (RequireJson(context.Request) is { } notJson) return notJson;
            if (consensus.Leader is not { } leader) return Problems.NoLeader("no leader is known right now; nothing was killed");
            if (leader.Id == settings.NodeId) return await KillSelfAsync(context, consensus, settings, clients, stream, processes);
            var forwarded = await TryForwardAsync(context, clients, new Uri(leader.Uri, $"/api/demo/nodes/{leader.Id}/kill"), "{}"u8.ToArray());
            return forwarded ? Results.Empty : Unreachable(leader.Id);
        })
        .WithSummary("Demo mode only: the leader kills itself with SIGKILL (like kill -9) right after it answers")
        .Produces<KillView>(StatusCodes.Status202Accepted).Refuses(415, "unsupported_media_type").Refuses(503, "no_leader", "node_unreachable");

        demo.MapPost("/nodes/{nodeId}/kill", async (string nodeId, HttpContext context, IConsensus consensus, NodeSettings settings, IHttpClientFactory clients, OrderFeed stream, MemberProcesses processes) =>
        {
            if (RequireJson(context.Request) is { } notJson) return notJson;
            if (MemberNamed(consensus, nodeId) is not { } node) return UnknownNode(nodeId);
            if (node.Id == settings.NodeId) return await KillSelfAsync(context, consensus, settings, clients, stream, processes);
            var forwarded = await TryForwardAsync(context, clients, new Uri(node.Uri, $"/api/demo/nodes/{node.Id}/kill"), "{}"u8.ToArray());
            return forwarded ? Results.Empty : Unreachable(node.Id);
        })
        .WithSummary("Demo mode only: a node kills itself with SIGKILL right after it answers")
        .Produces<KillView>(StatusCodes.Status202Accepted).Refuses(415, "unsupported_media_type").Refuses(404, "unknown_node").Refuses(503, "node_unreachable");

        demo.MapPost("/nodes/{nodeId}/start", async (string nodeId, HttpRequest request, IConsensus consensus, NodeSettings settings, IHttpClientFactory clients, MemberProcesses processes) =>
        {
            if (RequireJson(request) is { } notJson) return notJson;
            if (MemberNamed(consensus, nodeId) is not { } node) return UnknownNode(nodeId);
            if (node.Id == settings.NodeId || await AnswersAsync(clients, node.Uri, request.HttpContext.RequestAborted))
            {
                return Problems.Of(StatusCodes.Status409Conflict, "node_running", $"node {node.Id} is running");
            }
            return Results.Accepted(value: new StartedView(node.Id, processes.Start(node)));
        })
        .WithSummary("Demo mode only: start a member that does not answer, as a process on this node's machine")
        .Produces<StartedView>(StatusCodes.Status202Accepted).Refuses(415, "unsupported_media_type").Refuses(404, "unknown_node").Refuses(409, "node_running");
        return app;
    }

    /// <summary>Answers, then dies; an order stream running here moves to another member first, so the demo goes on.</summary>
    private static async Task<IResult> KillSelfAsync(HttpContext context, IConsensus consensus, NodeSettings settings, IHttpClientFactory clients, OrderFeed stream, MemberProcesses processes)
    {
        // Read the request to its end: a process that dies with unread bytes in a socket resets the connection, and
        // the answer already sent could be lost with it.
        await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        string? handedTo = null;
        if (stream.Current is { Running: true } running && running.EndsAt - DateTimeOffset.UtcNow > TimeSpan.FromSeconds(1))
        {
            var request = new StartStreamRequest(running.OrdersPerSecond, (int)Math.Ceiling((running.EndsAt - DateTimeOffset.UtcNow).TotalSeconds),
                new OrderFeed.Carry(running.Acknowledged, running.Failed, running.LastAcknowledgedAt));
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, JsonBody.Options));
            content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypeNames.Application.Json);
            foreach (var other in consensus.Members.Where(n => n.Id != settings.NodeId))
            {
                try
                {
                    using var handoff = new HttpRequestMessage(HttpMethod.Post, new Uri(other.Uri, "/api/demo/orders/start")) { Content = content };
                    CopyAuthorization(context.Request, handoff); // on behalf of whoever asked for the kill
                    using var answer = await clients.CreateClient(ClientName).SendAsync(handoff, context.RequestAborted);
                    if (!answer.IsSuccessStatusCode) continue;
                    stream.Stop();
                    handedTo = other.Id;
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // that member is down too: try the next
                }
            }
        }
        context.Response.OnCompleted(async () =>
        {
            await Task.Delay(AnswerDeliveryMs, CancellationToken.None); // let the kernel send the answer before the process goes
            processes.KillSelf();
        });
        return Results.Accepted(value: new KillView(settings.NodeId, Environment.ProcessId, consensus.Status().Term, consensus.Status().Role, DateTimeOffset.UtcNow, handedTo));
    }

    /// <summary>
    /// Every demo POST must say it is JSON: that makes a cross-origin call a preflighted one, which CORS allows only
    /// from the cluster's own dashboards, so a foreign page cannot fire it as a "simple" form post.
    /// </summary>
    private static IResult? RequireJson(HttpRequest request) =>
        request.HasJsonContentType() ? null : Problems.Of(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json");

    private static async Task<bool> TryForwardAsync(HttpContext context, IHttpClientFactory clients, Uri target, byte[] body)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypeNames.Application.Json);
        CopyAuthorization(context.Request, message);
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(message, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } contentType) context.Response.ContentType = contentType.ToString();
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }
    }

    private static void CopyAuthorization(HttpRequest from, HttpRequestMessage to)
    {
        foreach (var name in new[] { "Authorization", Contract.RaftMallHeaders.ApiKey })
        {
            if (from.Headers[name] is { Count: > 0 } values) to.Headers.TryAddWithoutValidation(name, values.ToArray());
        }
    }

    private static async Task<bool> AnswersAsync(IHttpClientFactory clients, Uri node, CancellationToken token)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(TimeSpan.FromMilliseconds(500));
            using var response = await clients.CreateClient(ClientName).GetAsync(new Uri(node, "/health/live"), timeout.Token);
            return true; // any answer means a process listens there
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !token.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The member with this id in the member directory (a member that cluster.yml does not list included).</summary>
    private static ClusterNode? MemberNamed(IConsensus consensus, string nodeId) => consensus.Members.FirstOrDefault(n => n.Id == nodeId);

    private static IResult UnknownNode(string nodeId) => Problems.Of(StatusCodes.Status404NotFound, "unknown_node", $"no member {nodeId} in the member directory");

    private static IResult Unreachable(string nodeId) =>
        Problems.Of(StatusCodes.Status503ServiceUnavailable, "node_unreachable", $"node {nodeId} did not answer; nothing was killed", retryAfterSeconds: 1);
}

public sealed record StartStreamRequest(int? OrdersPerSecond, int? DurationSeconds, OrderFeed.Carry? ContinueFrom);

public sealed record DemoStatusView(string NodeId, int ProcessId, OrderFeed.Status? Stream);

public sealed record KillView(string NodeId, int ProcessId, long Term, string Role, DateTimeOffset KilledAt, string? StreamHandedTo);

public sealed record StartedView(string NodeId, int ProcessId);
