namespace RaftMall.Client.Participants;

/// <summary>How far a branch has come at this participant, as its barrier record says.</summary>
public enum BarrierState
{
    /// <summary>Phase 1 took effect (committed with its effects).</summary>
    Tried,

    /// <summary>Confirm took effect; final.</summary>
    Confirmed,

    /// <summary>Cancel took effect, or arrived before any try (an empty rollback); final. A later try is refused.</summary>
    Cancelled,
}

/// <summary>An answer to the coordinator: an HTTP status and an optional JSON body, kept so that repeats get the same one.</summary>
public sealed record BarrierAnswer(int Status, string? Body = null)
{
    public bool IsSuccess => Status is >= 200 and <= 299;

    public static BarrierAnswer Ok(string? body = null) => new(200, body);

    /// <summary>A business refusal (409): phase 1 votes no and the transaction aborts.</summary>
    public static BarrierAnswer Refused(string? body = null) => new(409, body);
}

/// <summary>
/// The barrier record of one (gid, branch) at one participant. <paramref name="TryAnswer"/> is null when phase 1 never took
/// effect here (an empty rollback); <paramref name="FinalAnswer"/> is the first answer of confirm or cancel.
/// </summary>
public sealed record BarrierRecord(string Gid, string BranchId, BarrierState State, BarrierAnswer? TryAnswer, BarrierAnswer? FinalAnswer)
{
    public bool EmptyRollback => State == BarrierState.Cancelled && TryAnswer is null;
}

/// <summary>
/// One local transaction of the participant's own store. The barrier reads and writes its record through it, and the
/// participant's handler writes its business effect through the same transaction, so both commit together or not at
/// all. Disposing without <see cref="CommitAsync"/> must discard every change.
/// </summary>
public interface IBarrierTransaction : IAsyncDisposable
{
    /// <summary>The committed record of (gid, branch), or null when there is none.</summary>
    ValueTask<BarrierRecord?> FindBarrierAsync(string gid, string branchId, CancellationToken token);

    /// <summary>Inserts or replaces the record of (record.Gid, record.BranchId) in this transaction.</summary>
    void SaveBarrier(BarrierRecord record);

    /// <summary>Makes the barrier record and every effect of this transaction durable at once.</summary>
    ValueTask CommitAsync(CancellationToken token);
}

/// <summary>
/// The participant's store as the barrier needs it. Two transactions on the same (gid, branch) must not interleave
/// between <see cref="IBarrierTransaction.FindBarrierAsync"/> and commit: within one process
/// <see cref="ParticipantBarrier{TTransaction}"/> already serializes them; a store shared by several processes must
/// do it itself (a row lock on the barrier row, or a unique key on (gid, branch) that makes the second insert fail).
/// </summary>
public interface IBarrierStore<TTransaction> where TTransaction : IBarrierTransaction
{
    ValueTask<TTransaction> BeginAsync(CancellationToken token);
}
