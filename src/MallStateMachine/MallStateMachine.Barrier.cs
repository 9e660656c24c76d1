namespace RaftMall.StateMachine;

// The TCC barrier per (transaction, branch), for participants that keep their barrier in RaftMall.
public sealed partial class MallStateMachine
{
    private readonly Dictionary<(string Gid, string BranchId), BarrierState> _barriers = [];

    private MallResult ApplyBarrier(TccBarrier c)
    {
        if (Validation.CheckId(c.Gid, "gid") is { } gidError) return Invalid(gidError);
        if (Validation.CheckId(c.BranchId, "branchId") is { } branchError) return Invalid(branchError);
        var key = (c.Gid, c.BranchId);
        var known = _barriers.TryGetValue(key, out var state);
        (BarrierState next, bool effective, Rejected? refusal) = c.Operation switch
        {
            BarrierOperation.Try when !known => (BarrierState.Tried, true, null),
            BarrierOperation.Try when state is BarrierState.Cancelled or BarrierState.EmptyRollback =>
                (state, false, new Rejected(ErrorCode.TryAfterCancel, "this branch was cancelled; a late try is refused")),
            BarrierOperation.Try => (state, false, null), // repeated try, or try after confirm: nothing to do again
            BarrierOperation.Confirm when !known => (state, false, new Rejected(ErrorCode.ConfirmWithoutTry, "confirm before any try")),
            BarrierOperation.Confirm when state == BarrierState.Tried => (BarrierState.Confirmed, true, null),
            BarrierOperation.Confirm when state == BarrierState.Confirmed => (state, false, null),
            BarrierOperation.Confirm => (state, false, new Rejected(ErrorCode.AlreadyCancelled, "this branch was cancelled")),
            BarrierOperation.Cancel when !known => (BarrierState.EmptyRollback, false, null), // empty rollback
            BarrierOperation.Cancel when state == BarrierState.Tried => (BarrierState.Cancelled, true, null),
            BarrierOperation.Cancel when state == BarrierState.Confirmed =>
                (state, false, new Rejected(ErrorCode.AlreadyConfirmed, "this branch was confirmed")),
            BarrierOperation.Cancel => (state, false, null),
            _ => (state, false, Invalid("unknown barrier operation")),
        };
        if (refusal is not null) return refusal;
        _barriers[key] = next;
        return new BarrierResult(c.Gid, c.BranchId, next, effective);
    }
}
