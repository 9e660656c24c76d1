using RaftMall.StateMachine;

namespace RaftMall.Node.Api;

/// <summary>RFC 7807 answers with a machine-readable <c>code</c>, and the HTTP status of every domain error.</summary>
public static class Problems
{
    public static IResult Of(int status, string code, string detail, int? retryAfterSeconds = null)
    {
        var result = Results.Problem(statusCode: status, title: Title(status), detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });
        return retryAfterSeconds is { } seconds ? new WithRetryAfter(result, seconds) : result;
    }

    public static IResult Validation(string detail) => Of(StatusCodes.Status400BadRequest, "validation", detail);

    public static IResult Rejected(Rejected rejected) => Of(StatusOf(rejected.Code), rejected.CodeName, rejected.Detail);

    /// <summary>503 with Retry-After for writes whose outcome is unknown: the client retries with the same Idempotency-Key.</summary>
    public static IResult OutcomeUnknown(string detail) =>
        Of(StatusCodes.Status503ServiceUnavailable, "outcome_unknown", detail + "; retry with the same Idempotency-Key", retryAfterSeconds: 1);

    public static IResult NoLeader(string detail) => Of(StatusCodes.Status503ServiceUnavailable, "no_leader", detail, retryAfterSeconds: 1);

    public static IResult NotLeader() =>
        Of(StatusCodes.Status503ServiceUnavailable, "not_leader", "leadership moved before the write was appended; nothing was applied", retryAfterSeconds: 1);

    public static int StatusOf(ErrorCode code) => code switch
    {
        ErrorCode.Validation => StatusCodes.Status400BadRequest,
        ErrorCode.UnknownSku or ErrorCode.OrderNotFound or ErrorCode.KeyNotFound or ErrorCode.TransactionNotFound or ErrorCode.BranchNotFound
            or ErrorCode.ConsumerNotFound or ErrorCode.SubscriptionNotFound
            => StatusCodes.Status404NotFound,
        ErrorCode.RevisionMismatch => StatusCodes.Status412PreconditionFailed,
        _ => StatusCodes.Status409Conflict,
    };

    /// <summary>The problem for a bodiless error status set by the framework (routing, method matching, parameter binding).</summary>
    public static IResult Framework(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var detail = status switch
        {
            404 => "no such resource (see /openapi/v1.json)",
            405 => $"{context.Request.Method} is not allowed on this resource",
            400 => "a route or query parameter could not be read",
            _ => "the request was refused",
        };
        return Of(status, CodeOf(status), detail);
    }

    /// <summary>The code of an answer made by the framework rather than an endpoint (unknown route, wrong method, ...).</summary>
    public static string CodeOf(int? status) => status switch
    {
        400 => "bad_request",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "body_too_large",
        415 => "unsupported_media_type",
        500 => "internal",
        _ => "error",
    };

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        429 => "Too many requests",
        404 => "Not found",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition failed",
        422 => "Unprocessable entity",
        413 => "Payload too large",
        503 => "Service unavailable",
        _ => "Error",
    };

    private sealed class WithRetryAfter(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
