using RaftMall.Contract;
using RaftMall.Node.Api;

namespace RaftMall.Node.Security;

/// <summary>
/// API keys: <c>Authorization: Bearer &lt;key&gt;</c> (or <c>X-Api-Key</c>, <see cref="RaftMallHeaders.ApiKey"/>). A request without a valid key answers
/// 401 <c>unauthenticated</c>, one whose key's role is too low 403 <c>forbidden</c>; both before the body is read,
/// so nothing is applied. A middleware with one rule table (<see cref="AccessRules"/>) rather than per-endpoint
/// policies, so endpoints added later are protected by default.
/// </summary>
public sealed class ClientAuthentication(RequestDelegate next, NodeSecurity security)
{
    /// <summary>HttpContext.Items key of the authenticated key's name (the rate limiter partitions by it).</summary>
    public const string ClientItem = "RaftMall.Client";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (security.Insecure || AccessRules.IsPublic(request.Path))
        {
            await next(context);
            return;
        }
        var presented = PresentedKey(request);
        if (presented is null || security.Find(presented) is not { } key)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            var detail = presented is null ? "send an API key: Authorization: Bearer <key>" : "the API key is not valid";
            await Problems.Of(StatusCodes.Status401Unauthorized, "unauthenticated", detail + "; nothing was applied").ExecuteAsync(context);
            return;
        }
        var required = AccessRules.Required(request.Method, request.Path);
        if (key.Role < required)
        {
            var detail = $"the key '{key.Name}' has role {Name(key.Role)}; {request.Method} {request.Path} needs {Name(required)}; nothing was applied";
            await Problems.Of(StatusCodes.Status403Forbidden, "forbidden", detail).ExecuteAsync(context);
            return;
        }
        context.Items[ClientItem] = key.Name;
        await next(context);
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value["Bearer ".Length..].Trim();
        }
        return request.Headers[RaftMallHeaders.ApiKey] is { Count: 1 } header ? header[0] : null;
    }

    private static string Name(ClientRole role) => role.ToString().ToLowerInvariant();
}
