namespace RaftMall.Contract;

/// <summary>The HTTP headers of RaftMall's API, by name.</summary>
public static class RaftMallHeaders
{
    /// <summary>On any request to /api: the client's API key, the alternative to <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public const string ApiKey = "X-Api-Key";

    /// <summary>On a write: the key that makes a retry of it apply once (the first answer is given again).</summary>
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>On every answer of a write that went through the log (accepted or rejected by the state machine): its log index.</summary>
    public const string AppliedIndex = "RaftMall-Applied-Index";

    /// <summary>On every answer under /api: the base address of the leader the answering node knows.</summary>
    public const string Leader = "RaftMall-Leader";

    /// <summary>On a write a follower forwards to the leader: the follower's id (a forwarded write is not forwarded again).</summary>
    public const string ForwardedBy = "RaftMall-Forwarded-By";
}

/// <summary>The headers the coordinator puts on every participant call, by name.</summary>
public static class ParticipantHeaders
{
    /// <summary>The global transaction's id (at most <see cref="MaxIdLength"/> characters).</summary>
    public const string Gid = "RaftMall-Gid";

    /// <summary>The branch's id within the transaction (at most <see cref="MaxIdLength"/> characters).</summary>
    public const string Branch = "RaftMall-Branch";

    /// <summary>What is asked: try, confirm, cancel (tcc); prepare, commit, rollback (2pc); action, compensate (saga).</summary>
    public const string Operation = "RaftMall-Operation";

    /// <summary>The delivery of this operation, from 1; retries count up (phase-1 counts restart on a new leader).</summary>
    public const string Attempt = "RaftMall-Attempt";

    /// <summary>The transaction's mode: tcc, 2pc or saga.</summary>
    public const string Mode = "RaftMall-Mode";

    /// <summary>Longest gid or branch id accepted, in characters (the cluster's own limit for ids).</summary>
    public const int MaxIdLength = 128;

    /// <summary>Puts the five headers of one coordinator call on a request.</summary>
    /// <param name="headers">The request's headers.</param>
    /// <param name="gid">The global transaction's id.</param>
    /// <param name="branchId">The branch's id within the transaction.</param>
    /// <param name="operation">try, confirm, cancel, prepare, commit, rollback, action or compensate.</param>
    /// <param name="attempt">The delivery of this operation, from 1.</param>
    /// <param name="mode">tcc, 2pc or saga.</param>
    public static void Add(System.Net.Http.Headers.HttpRequestHeaders headers, string gid, string branchId, string operation, int attempt, string mode)
    {
        ArgumentNullException.ThrowIfNull(headers);
        headers.Add(Gid, gid);
        headers.Add(Branch, branchId);
        headers.Add(Operation, operation);
        headers.Add(Attempt, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        headers.Add(Mode, mode);
    }
}
