namespace RaftMall.Client;

/// <summary>The cluster answered with a problem: <see cref="Code"/> is its machine-readable reason (e.g. insufficient_stock).</summary>
public class RaftMallException : Exception
{
    public RaftMallException() : this(0, "error", "error") { }
    public RaftMallException(string message) : this(0, "error", message) { }
    public RaftMallException(string message, Exception inner) : base(message, inner) => Code = "error";

    public RaftMallException(int status, string code, string detail, Exception? inner = null) : base($"{code}: {detail}", inner)
    {
        Status = status;
        Code = code;
        Detail = detail;
    }

    /// <summary>HTTP status (0 when no node answered).</summary>
    public int Status { get; }

    public string Code { get; }

    public string Detail { get; } = "";
}

/// <summary>A 404: the sku, order, key or transaction does not exist.</summary>
public sealed class RaftMallNotFoundException(int status, string code, string detail) : RaftMallException(status, code, detail);

/// <summary>A 409 or 412: the request conflicts with the state (insufficient_stock, token_used, revision_mismatch, ...).</summary>
public sealed class RaftMallConflictException(int status, string code, string detail) : RaftMallException(status, code, detail);

/// <summary>A 400/413: the request itself is wrong; retrying it cannot help.</summary>
public sealed class RaftMallValidationException(int status, string code, string detail) : RaftMallException(status, code, detail);

/// <summary>
/// No node could complete the request within the retry budget: none answered, or the cluster stayed without a leader.
/// For a write, the outcome may be unknown: retry with the same idempotency key to learn it.
/// </summary>
public sealed class RaftMallUnavailableException(string code, string detail, Exception? inner = null) : RaftMallException(0, code, detail, inner);
