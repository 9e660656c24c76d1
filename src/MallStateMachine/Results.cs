namespace RaftMall.StateMachine;

/// <summary>What applying a command produced: a typed success or a <see cref="Rejected"/> with a code.</summary>
public abstract record MallResult
{
    public bool IsSuccess => this is not Rejected;
}

/// <summary>The command was refused and changed nothing.</summary>
public sealed record Rejected(ErrorCode Code, string Detail) : MallResult
{
    public string CodeName => ErrorCodes.Name(Code);
}

public sealed record StockResult(StockLevel Stock) : MallResult;

public sealed record TokenResult(string Token, string UserId, long ExpiresAtMs) : MallResult;

public sealed record OrderResult(Order Order) : MallResult;

/// <summary>What one expiry tick did.</summary>
public sealed record ExpireResult(int OrdersExpired, int TransactionsAborted, int TokensForgotten) : MallResult;

public sealed record KvResult(KvEntry Entry) : MallResult;

public sealed record KvDeleted(string Key, long Revision) : MallResult;

public sealed record TransactionResult(GlobalTransaction Transaction) : MallResult;

/// <param name="Effective">True when the participant should perform the action now (first try, first confirm, cancel of a real try).</param>
public sealed record BarrierResult(string Gid, string BranchId, BarrierState State, bool Effective) : MallResult;

/// <summary>What one phase-2 record did: branches acknowledged, failures recorded, transactions finished.</summary>
public sealed record PhaseTwoResult(int Acknowledged, int Failed, int Finished) : MallResult;

/// <summary>The result of each command of a <see cref="CommandBatch"/>, in order.</summary>
public sealed record BatchResult(MallResult[] Results) : MallResult;

/// <summary>A committed message: its event (id, sequence, topic, key, payload).</summary>
public sealed record MessageResult(MallEvent Message) : MallResult;

/// <summary>An order placed together with its message, in one entry.</summary>
public sealed record OrderWithMessageResult(Order Order, MallEvent Message) : MallResult;

/// <summary>A consumer's committed position after an ack, a move or a delete (its last position).</summary>
public sealed record ConsumerResult(ConsumerPosition Consumer) : MallResult;

/// <summary>A subscription after a create, retry, resume or delete (its last state).</summary>
public sealed record SubscriptionResult(Subscription Subscription) : MallResult;

/// <summary>What one progress record did: items applied, and items ignored (an unknown subscription, an older generation, a suspended one).</summary>
public sealed record SubscriptionProgressResult(int Recorded, int Ignored) : MallResult;

/// <summary>A member id bound to an address in the member directory.</summary>
public sealed record MemberBound(string Address, string MemberId) : MallResult;

/// <summary>A <see cref="CheckState"/> applied: the node hashes its state at this entry.</summary>
public sealed record StateChecked : MallResult
{
    public static readonly StateChecked Instance = new();
}
