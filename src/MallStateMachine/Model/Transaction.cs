namespace RaftMall.StateMachine;

public enum TransactionMode : byte
{
    Tcc = 0,
    TwoPhase = 1,
    Saga = 2,
}

public enum TransactionStatus : byte
{
    /// <summary>Phase 1: branches are being registered and asked to prepare/try.</summary>
    Open = 0,
    /// <summary>Decided commit; phase 2 acknowledgements outstanding.</summary>
    Committing = 1,
    /// <summary>Decided abort; phase 2 acknowledgements outstanding.</summary>
    Aborting = 2,
    Committed = 3,
    Aborted = 4,
}

public enum Decision : byte
{
    None = 0,
    Commit = 1,
    Abort = 2,
}

public enum Vote : byte
{
    Pending = 0,
    Yes = 1,
    No = 2,
}

/// <summary>One participant of a global transaction: its phase-1 vote and phase-2 acknowledgement.</summary>
public sealed record TransactionBranch(string BranchId, string Resource, string Payload, Vote Vote, bool Acknowledged);

/// <summary>A global transaction (2PC, TCC or saga) as it stood at one applied index.</summary>
public sealed record GlobalTransaction(
    string Gid,
    TransactionMode Mode,
    TransactionStatus Status,
    Decision Decision,
    string DecisionReason,
    long BeganAtMs,
    long DeadlineMs,
    long DecidedAtMs,
    TransactionBranch[] Branches)
{
    public bool IsDecided => Decision != Decision.None;
}

/// <summary>Per (transaction, branch) TCC barrier states.</summary>
public enum BarrierState : byte
{
    Tried = 1,
    Confirmed = 2,
    Cancelled = 3,
    /// <summary>A cancel arrived before any try: recorded so that a late try is refused.</summary>
    EmptyRollback = 4,
}

public enum BarrierOperation : byte
{
    Try = 1,
    Confirm = 2,
    Cancel = 3,
}

public static class TransactionNames
{
    public static string Mode(TransactionMode mode) => mode switch
    {
        TransactionMode.Tcc => "tcc",
        TransactionMode.TwoPhase => "2pc",
        TransactionMode.Saga => "saga",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    public static string Status(TransactionStatus status) => status switch
    {
        TransactionStatus.Open => "open",
        TransactionStatus.Committing => "committing",
        TransactionStatus.Aborting => "aborting",
        TransactionStatus.Committed => "committed",
        TransactionStatus.Aborted => "aborted",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}
