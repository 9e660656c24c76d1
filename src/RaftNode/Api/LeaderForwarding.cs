using System.Net.Sockets;
using RaftMall.Node.Consensus;

using RaftMall.Node.Observability;

namespace RaftMall.Node.Api;

/// <summary>
/// Writes that reach a follower are forwarded to the leader and its answer is passed back unchanged, so a client
/// never needs to know who leads. During an election a write waits (bounded) for a leader, then answers 503.
/// DotNext's RedirectToLeader is not used: it builds the address from the local port.
/// </summary>
public sealed partial class LeaderForwarding(RequestDelegate next, IConsensus consensus, NodeSettings settings, IHttpClientFactory clients, TimeProvider time, ILogger<LeaderForwarding> logger)
{
    public const string ClientName = "leader-forwarding";

    /// <summary>Longest wait for a leader change before a waiting write looks again.</summary>
    private static readonly TimeSpan MaxLeaderWait = TimeSpan.FromMilliseconds(50);

    // The client's credentials go along: the leader authenticates and authorizes the write itself.
    private static readonly string[] PassedRequestHeaders = ["Content-Type", "Accept", "If-Match", Contract.RaftMallHeaders.IdempotencyKey, "Authorization", Contract.RaftMallHeaders.ApiKey];
    private static readonly string[] PassedResponseHeaders = ["Location", "Retry-After", Contract.RaftMallHeaders.AppliedIndex];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/api"))
        {
            // Tell clients who leads, so they can send their next write there directly.
            context.Response.OnStarting(() =>
            {
                if (consensus.Leader is { } known) context.Response.Headers[Contract.RaftMallHeaders.Leader] = known.Uri.GetLeftPart(UriPartial.Authority);
                return Task.CompletedTask;
            });
        }
        var isWrite = HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsDelete(request.Method) || HttpMethods.IsPatch(request.Method);
        // Demo controls are not Raft writes: they route themselves (DemoEndpoints).
        if (!isWrite || !request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/api/demo") || request.Headers.ContainsKey(Contract.RaftMallHeaders.ForwardedBy))
        {
            await next(context);
            return;
        }

        var deadline = time.GetUtcNow().AddMilliseconds(settings.Cluster.LeaderWaitMs);
        byte[]? body = null;
        while (true)
        {
            var changed = consensus.NextLeaderChange;
            var leader = consensus.Leader;
            if (leader is not null && leader.Id == settings.NodeId)
            {
                if (body is not null) request.Body = new MemoryStream(body);
                await next(context);
                return;
            }
            if (leader is not null)
            {
                body ??= await ReadBodyAsync(request);
                var forwarded = await TryForwardAsync(context, leader.Uri, body, changed);
                if (forwarded) return;
            }
            // A node cut off from a majority will hear of no leader until the cut heals: waiting would only hold the
            // client until its own timeout, while another node may already know the new leader (a leader that stepped
            // down on a partition, in `raftmall verify`, held each write it got for a second that way).
            if (time.GetUtcNow() >= deadline || !consensus.ReachesMajority)
            {
                if (body is not null) NodeTelemetry.ForwardedWrites.Add(1, new KeyValuePair<string, object?>("outcome", Contract.ProblemCodes.NoLeader));
                await Problems.NoLeader(consensus.ReachesMajority
                    ? $"no leader was elected within {settings.Cluster.LeaderWaitMs} ms; nothing was applied"
                    : "this node reaches no majority of the members and knows no leader; nothing was applied: another node may").ExecuteAsync(context);
                return;
            }
            // Wait for the next leader instead of polling: during an election every waiting write would otherwise wake
            // (and try a dead leader) every few milliseconds on the same cores the election needs. The cap covers a
            // leader that is known but refused the connection and is not replaced.
            var wait = deadline - time.GetUtcNow();
            wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait < MaxLeaderWait ? wait : MaxLeaderWait;
            await Task.WhenAny(changed, Task.Delay(wait, time, context.RequestAborted));
            context.RequestAborted.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Sends the request to the leader; false when it certainly did not arrive (connection refused), so it may be
    /// retried. If another leader becomes known while the answer is awaited (<paramref name="leaderChanged"/>), the old
    /// one is frozen or cut off: waiting for it would hold the client until its own timeout, so the write is answered
    /// as unknown at once (it may still commit) and the client retries it under its Idempotency-Key.
    /// </summary>
    private async Task<bool> TryForwardAsync(HttpContext context, Uri leader, byte[] body, Task leaderChanged)
    {
        var request = context.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(leader, request.Path + request.QueryString));
        message.Content = new ByteArrayContent(body);
        foreach (var name in PassedRequestHeaders)
        {
            if (!request.Headers.TryGetValue(name, out var values)) continue;
            if (name == "Content-Type") message.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
            else message.Headers.TryAddWithoutValidation(name, values.ToArray());
        }
        message.Headers.TryAddWithoutValidation(Contract.RaftMallHeaders.ForwardedBy, settings.NodeId);

        HttpResponseMessage response;
        using var replaced = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var sending = clients.CreateClient(ClientName).SendAsync(message, replaced.Token);
        try
        {
            // WhenAny takes its continuation off the leader-change task again when the answer comes first, so the
            // writes forwarded during one long leadership do not pile up on that task.
            if (await Task.WhenAny(sending, leaderChanged) != sending) await replaced.CancelAsync();
            response = await sending;
        }
        catch (OperationCanceledException) when (leaderChanged.IsCompleted && !context.RequestAborted.IsCancellationRequested)
        {
            var now = consensus.Leader?.Id ?? "nobody (an election)";
            await Problems.OutcomeUnknown($"the leader changed to {now} while {leader.Authority} held the forwarded write; it may still commit").ExecuteAsync(context);
            NodeTelemetry.ForwardedWrites.Add(1, new KeyValuePair<string, object?>("outcome", "leader_changed"));
            return true;
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            LogLeaderUnreachable(leader);
            NodeTelemetry.ForwardedWrites.Add(1, new KeyValuePair<string, object?>("outcome", "refused"));
            return false; // never sent: wait for the next leader and try again
        }
        // A connection that breaks while it is set up can surface as a bare SocketException (ENOTCONN), not wrapped.
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException && !context.RequestAborted.IsCancellationRequested)
        {
            await Problems.OutcomeUnknown($"the leader at {leader} did not answer the forwarded write ({e.Message})").ExecuteAsync(context);
            NodeTelemetry.ForwardedWrites.Add(1, new KeyValuePair<string, object?>("outcome", Contract.ProblemCodes.OutcomeUnknown));
            return true;
        }
        using (response)
        {
            NodeTelemetry.ForwardedWrites.Add(1, new KeyValuePair<string, object?>("outcome", "answered"));
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var name in PassedResponseHeaders)
            {
                if (response.Headers.TryGetValues(name, out var values)) context.Response.Headers[name] = values.ToArray();
            }
            if (response.Content.Headers.ContentType is { } contentType) context.Response.ContentType = contentType.ToString();
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
        return true;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "leader {Leader} refused the connection; waiting for a new leader")]
    private partial void LogLeaderUnreachable(Uri leader);
}
