namespace RaftMall.Client;

/// <summary>The cluster answered with a problem: <see cref="Code"/> is its machine-readable reason (e.g. insufficient_stock).</summary>
public class RaftMallException : Exception
{
    /// <summary>An error without an answer: status 0, code and detail <c>error</c>.</summary>
    public RaftMallException() : this(0, "error", "error") { }

    /// <summary>An error without an answer: status 0, code <c>error</c>, <paramref name="message"/> as the detail.</summary>
    /// <param name="message">What went wrong.</param>
    public RaftMallException(string message) : this(0, "error", message) { }

    /// <summary>An error without an answer, caused by <paramref name="inner"/>: status 0, code <c>error</c>, an empty detail.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The exception that caused it.</param>
    public RaftMallException(string message, Exception inner) : base(message, inner) => Code = "error";

    /// <summary>A problem answer: the message is <c>code: detail</c>.</summary>
    /// <param name="status">The HTTP status (0 when no node answered).</param>
    /// <param name="code">The problem's machine-readable code.</param>
    /// <param name="detail">The problem's detail, for people.</param>
    /// <param name="inner">The exception that caused it, if any.</param>
    public RaftMallException(int status, string code, string detail, Exception? inner = null) : base($"{code}: {detail}", inner)
    {
        Status = status;
        Code = code;
        Detail = detail;
    }

    /// <summary>HTTP status (0 when no node answered).</summary>
    public int Status { get; }

    /// <summary>The machine-readable reason: the problem's <c>code</c> (e.g. insufficient_stock), <c>http_</c> and the status when it has none, or the client's own (e.g. no_answer, connection_refused).</summary>
    public string Code { get; }

    /// <summary>The problem's <c>detail</c>, for people (empty when the exception was made from a message and an inner exception).</summary>
    public string Detail { get; } = "";
}

/// <summary>A 404: the sku, order, key or transaction does not exist.</summary>
/// <param name="status">The HTTP status.</param>
/// <param name="code">The problem's machine-readable code.</param>
/// <param name="detail">The problem's detail, for people.</param>
public sealed class RaftMallNotFoundException(int status, string code, string detail) : RaftMallException(status, code, detail);

/// <summary>A 409 or 412: the request conflicts with the state (insufficient_stock, token_used, revision_mismatch, ...).</summary>
/// <param name="status">The HTTP status.</param>
/// <param name="code">The problem's machine-readable code.</param>
/// <param name="detail">The problem's detail, for people.</param>
public sealed class RaftMallConflictException(int status, string code, string detail) : RaftMallException(status, code, detail);

/// <summary>A 400/413: the request itself is wrong; retrying it cannot help.</summary>
/// <param name="status">The HTTP status.</param>
/// <param name="code">The problem's machine-readable code.</param>
/// <param name="detail">The problem's detail, for people.</param>
public sealed class RaftMallValidationException(int status, string code, string detail) : RaftMallException(status, code, detail);

/// <summary>
/// No node could complete the request within the retry budget: none answered, or the cluster stayed without a leader.
/// For a write, the outcome may be unknown: retry with the same idempotency key to learn it.
/// </summary>
/// <param name="code">The last reason: a 503 or 429 problem's code (no_leader, not_leader, outcome_unknown, overloaded, rate_limited; unavailable when it had none), no_answer or connection_refused.</param>
/// <param name="detail">Which nodes, which request, the retry budget and the last error; for a write, the Idempotency-Key to retry with.</param>
/// <param name="inner">The last error: a <see cref="RaftMallException"/> of the last problem answer, or the transport's exception.</param>
public sealed class RaftMallUnavailableException(string code, string detail, Exception? inner = null) : RaftMallException(0, code, detail, inner);
