namespace RaftMall.StateMachine;

/// <summary>Machine-readable reasons a command is rejected; <see cref="ErrorCodes.Name"/> gives the wire code.</summary>
public enum ErrorCode : byte
{
    Validation = 1,
    UnknownSku = 2,
    InsufficientStock = 3,
    TokenUsed = 4,
    TokenInvalid = 5,
    TokenExists = 6,
    OrderNotFound = 7,
    OrderNotPending = 8,
    KeyNotFound = 9,
    RevisionMismatch = 10,
    IdempotencyKeyReused = 11,
    TransactionNotFound = 12,
    TransactionExists = 13,
    TransactionDecided = 14,
    DecisionFinal = 15,
    BranchNotFound = 16,
    BranchExists = 17,
    VotesMissing = 18,
    VoteFinal = 19,
    TransactionNotDecided = 20,
    TryAfterCancel = 21,
    ConfirmWithoutTry = 22,
    AlreadyConfirmed = 23,
    AlreadyCancelled = 24,
    PhaseMismatch = 25,
    TransactionFinished = 26,
    ConsumerNotFound = 27,
    TooManyConsumers = 28,
}

/// <summary>Wire names and HTTP-independent classification of <see cref="ErrorCode"/>.</summary>
public static class ErrorCodes
{
    public static string Name(ErrorCode code) => code switch
    {
        ErrorCode.Validation => "validation",
        ErrorCode.UnknownSku => "unknown_sku",
        ErrorCode.InsufficientStock => "insufficient_stock",
        ErrorCode.TokenUsed => "token_used",
        ErrorCode.TokenInvalid => "token_invalid",
        ErrorCode.TokenExists => "token_exists",
        ErrorCode.OrderNotFound => "order_not_found",
        ErrorCode.OrderNotPending => "order_not_pending",
        ErrorCode.KeyNotFound => "key_not_found",
        ErrorCode.RevisionMismatch => "revision_mismatch",
        ErrorCode.IdempotencyKeyReused => "idempotency_key_reused",
        ErrorCode.TransactionNotFound => "transaction_not_found",
        ErrorCode.TransactionExists => "transaction_exists",
        ErrorCode.TransactionDecided => "transaction_decided",
        ErrorCode.DecisionFinal => "decision_final",
        ErrorCode.BranchNotFound => "branch_not_found",
        ErrorCode.BranchExists => "branch_exists",
        ErrorCode.VotesMissing => "votes_missing",
        ErrorCode.VoteFinal => "vote_final",
        ErrorCode.TransactionNotDecided => "transaction_not_decided",
        ErrorCode.TryAfterCancel => "try_after_cancel",
        ErrorCode.ConfirmWithoutTry => "confirm_without_try",
        ErrorCode.AlreadyConfirmed => "already_confirmed",
        ErrorCode.AlreadyCancelled => "already_cancelled",
        ErrorCode.PhaseMismatch => "phase_mismatch",
        ErrorCode.TransactionFinished => "transaction_finished",
        ErrorCode.ConsumerNotFound => "consumer_not_found",
        ErrorCode.TooManyConsumers => "too_many_consumers",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "unknown error code"),
    };
}
