using Microsoft.AspNetCore.Http.Features;

namespace RaftMall.Node.Api;

/// <summary>
/// Bounds API requests: their body size (Raft traffic on the same port carries snapshots and is exempt once its peer
/// is authenticated) and how many are served at once (beyond <c>MaxConcurrentRequests</c> a request answers 503
/// <c>overloaded</c> at once instead of queueing behind the others). Turns Kestrel's bad-request errors into
/// problem+json answers with a code.
/// </summary>
public sealed class RequestLimits(RequestDelegate next, NodeSettings settings)
{
    /// <summary>Largest API request body: a kv value of 64 Ki characters fits in UTF-8 with room to spare.</summary>
    public const long MaxApiBodyBytes = 1024 * 1024;

    private int _inFlight;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            await next(context);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxApiBodyBytes;
        var max = settings.Cluster.MaxConcurrentRequests;
        try
        {
            if (Interlocked.Increment(ref _inFlight) > max)
            {
                await Problems.Of(StatusCodes.Status503ServiceUnavailable, "overloaded",
                    $"this node is serving {max} requests already; retry shortly; nothing was applied", retryAfterSeconds: 1).ExecuteAsync(context);
                return;
            }
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            var code = e.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => "body_too_large",
                StatusCodes.Status408RequestTimeout => "request_timeout",
                _ => "bad_request",
            };
            var detail = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? $"request bodies are at most {MaxApiBodyBytes} bytes" : e.Message;
            await Problems.Of(e.StatusCode, code, detail).ExecuteAsync(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
