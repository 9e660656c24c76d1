using Microsoft.AspNetCore.Http.Features;

namespace RaftMall.Node.Api;

/// <summary>
/// Bounds API request bodies (Raft traffic on the same port carries snapshots and is not limited here) and turns
/// Kestrel's bad-request errors into problem+json answers with a code.
/// </summary>
public sealed class RequestLimits(RequestDelegate next)
{
    /// <summary>Largest API request body: a kv value of 64 Ki characters fits in UTF-8 with room to spare.</summary>
    public const long MaxApiBodyBytes = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.StartsWithSegments("/api") && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxApiBodyBytes;
        }
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            var code = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "body_too_large" : "bad_request";
            var detail = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? $"request bodies are at most {MaxApiBodyBytes} bytes" : e.Message;
            await Problems.Of(e.StatusCode, code, detail).ExecuteAsync(context);
        }
    }
}
