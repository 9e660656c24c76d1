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
/// <param name="Status">The HTTP status: 2xx is success (a yes vote or an acknowledgement), 409 or 422 a business refusal.</param>
/// <param name="Body">The JSON body to answer with; null for none.</param>
public sealed record BarrierAnswer(int Status, string? Body = null)
{
    /// <summary>Whether <see cref="Status"/> is 2xx: the barrier commits the effect only then.</summary>
    public bool IsSuccess => Status is >= 200 and <= 299;

    /// <summary>A success (200): phase 1 votes yes, or phase 2 is acknowledged.</summary>
    /// <param name="body">The JSON body to answer with; null for none.</param>
    public static BarrierAnswer Ok(string? body = null) => new(200, body);

    /// <summary>A business refusal (409): phase 1 votes no and the transaction aborts.</summary>
    /// <param name="body">The JSON body to answer with (e.g. a problem with the refusal's code); null for none.</param>
    public static BarrierAnswer Refused(string? body = null) => new(409, body);
}

/// <summary>
/// The barrier record of one (gid, branch) at one participant. <paramref name="TryAnswer"/> is null when phase 1 never took
/// effect here (an empty rollback); <paramref name="FinalAnswer"/> is the first answer of confirm or cancel.
/// </summary>
/// <param name="Gid">The global transaction's id.</param>
/// <param name="BranchId">The branch's id within the transaction.</param>
/// <param name="State">How far the branch has come here.</param>
/// <param name="TryAnswer">The answer of the successful phase-1 call; null after an empty rollback.</param>
/// <param name="FinalAnswer">The first answer of confirm or cancel; null while the branch is only tried.</param>
public sealed record BarrierRecord(string Gid, string BranchId, BarrierState State, BarrierAnswer? TryAnswer, BarrierAnswer? FinalAnswer)
{
    /// <summary>Whether the branch was cancelled here without phase 1 ever taking effect (a later try is refused).</summary>
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
    /// <param name="gid">The global transaction's id.</param>
    /// <param name="branchId">The branch's id within the transaction.</param>
    /// <param name="token">Cancels the call.</param>
    ValueTask<BarrierRecord?> FindBarrierAsync(string gid, string branchId, CancellationToken token);

    /// <summary>Inserts or replaces the record of (record.Gid, record.BranchId) in this transaction.</summary>
    /// <param name="record">The new record; written only by <see cref="CommitAsync"/>.</param>
    void SaveBarrier(BarrierRecord record);

    /// <summary>Makes the barrier record and every effect of this transaction durable at once.</summary>
    /// <param name="token">Cancels the call.</param>
    ValueTask CommitAsync(CancellationToken token);
}

/// <summary>
/// The participant's store as the barrier needs it. Two transactions on the same (gid, branch) must not interleave
/// between <see cref="IBarrierTransaction.FindBarrierAsync"/> and commit: within one process
/// <see cref="ParticipantBarrier{TTransaction}"/> already serializes them; a store shared by several processes must
/// do it itself (a row lock on the barrier row, or a unique key on (gid, branch) that makes the second insert fail).
/// </summary>
/// <typeparam name="TTransaction">The store's local transaction.</typeparam>
public interface IBarrierStore<TTransaction> where TTransaction : IBarrierTransaction
{
    /// <summary>Begins a local transaction of the store; the barrier disposes it, after <see cref="IBarrierTransaction.CommitAsync"/> or without.</summary>
    /// <param name="token">Cancels the call.</param>
    ValueTask<TTransaction> BeginAsync(CancellationToken token);
}
