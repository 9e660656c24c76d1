namespace RaftMall.StateMachine;

/// <summary>Every bound the state machine enforces, in one place. Requests beyond a limit are rejected, never truncated.</summary>
public static class MallLimits
{
    /// <summary>Longest user id, sku, token, transaction id or branch id, in characters.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Longest idempotency key, in characters (api.md: up to 128).</summary>
    public const int MaxIdempotencyKeyLength = 128;

    public const int MaxItemsPerOrder = 50;
    public const int MaxQuantityPerItem = 10_000;

    /// <summary>Largest available count that may be set for one sku.</summary>
    public const long MaxAvailablePerSku = 1_000_000_000;

    public const long MinOrderTtlMs = 1_000;
    public const long MaxOrderTtlMs = 7L * 24 * 3600 * 1000;
    public const long DefaultOrderTtlMs = 15L * 60 * 1000;

    public const long MaxTokenTtlMs = 24L * 3600 * 1000;

    public const int MaxKeyLength = 256;
    public const int MaxValueLength = 64 * 1024;

    public const int MaxBranchesPerTransaction = 32;
    public const int MaxBranchPayloadLength = 16 * 1024;
    public const int MaxReasonLength = 1024;
    public const long MinTransactionTimeoutMs = 100;
    public const long MaxTransactionTimeoutMs = 24L * 3600 * 1000;

    /// <summary>Longest participant URL, in characters.</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>Longest per-call timeout a branch may ask for.</summary>
    public const long MaxBranchTimeoutMs = 10L * 60 * 1000;

    /// <summary>Longest recorded participant error, in characters (longer ones are cut by the node before proposing).</summary>
    public const int MaxBranchErrorLength = 512;

    /// <summary>Most phase-2 records in one <see cref="RecordPhaseTwo"/> entry.</summary>
    public const int MaxPhaseTwoBatch = 4096;

    /// <summary>How long a finished transaction stays readable, in log time; then it is forgotten (its gid may be used again).</summary>
    public const long FinishedTransactionRetentionMs = 60L * 60 * 1000;

    /// <summary>Most finished transactions kept; beyond it the oldest are forgotten first, so the state stays bounded under load.</summary>
    public const int MaxFinishedTransactions = 100_000;

    /// <summary>Most commands in one <see cref="CommandBatch"/>.</summary>
    public const int MaxBatchCommands = 1024;

    /// <summary>How long an idempotency key and its first answer are kept, in log time (api.md: at least 24 hours).</summary>
    public const long IdempotencyRetentionMs = 24L * 3600 * 1000;

    /// <summary>Default number of outbox events kept; older ones are trimmed.</summary>
    public const int DefaultRetainedEvents = 100_000;

    /// <summary>
    /// Longest message payload (JSON text), in characters. Every retained event may be a message, so the outbox's
    /// worst case is about <see cref="DefaultRetainedEvents"/> x this (~400 MiB of UTF-16 at the defaults).
    /// </summary>
    public const int MaxMessagePayloadLength = 2 * 1024;

    /// <summary>Most pull consumers with a committed position; an ack that would add one more is refused (too_many_consumers).</summary>
    public const int MaxConsumers = 1_000;

    /// <summary>Most push subscriptions; creating one more is refused (too_many_subscriptions).</summary>
    public const int MaxSubscriptions = 64;

    /// <summary>Most topics plus event types one subscription matches.</summary>
    public const int MaxSubscriptionFilters = 32;

    /// <summary>Most events in one delivery call of a subscription.</summary>
    public const int MaxSubscriptionBatch = 1_000;

    /// <summary>Longest deadline of one delivery call, in ms.</summary>
    public const int MaxSubscriptionTimeoutMs = 60_000;

    /// <summary>Largest number of failed attempts before a subscription is marked stuck.</summary>
    public const int MaxSubscriptionAttempts = 1_000_000;

    /// <summary>Longest recorded delivery error, in characters (longer ones are cut by the node before proposing).</summary>
    public const int MaxSubscriptionErrorLength = 512;

    /// <summary>
    /// Most addresses in the member directory (<see cref="BindMember"/>). Addresses of removed members stay bound (a
    /// removed node that keeps running still names itself), so this bounds the addresses a cluster has ever used.
    /// </summary>
    public const int MaxMemberAddresses = 1_024;

    /// <summary>Longest member address (scheme, host and port), in characters.</summary>
    public const int MaxMemberAddressLength = 512;

    /// <summary>Largest encoded command the codec accepts.</summary>
    public const int MaxEncodedCommandBytes = 1024 * 1024;
}
