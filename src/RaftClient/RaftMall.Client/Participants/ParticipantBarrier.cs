namespace RaftMall.Client.Participants;

/// <summary>What the barrier did with a call (for the participant's logs and counters; the coordinator sees only the answer).</summary>
public enum BarrierVerdict
{
    /// <summary>The handler ran and its effect was committed with the barrier record.</summary>
    Applied,

    /// <summary>The handler ran and answered a failure or refusal; nothing was committed.</summary>
    NotApplied,

    /// <summary>A repeat of an operation that already took effect: the first answer, nothing applied again.</summary>
    Repeated,

    /// <summary>A cancel before any try took effect here: recorded as cancelled, the handler did not run.</summary>
    EmptyRollback,

    /// <summary>A try after its branch was cancelled (anti-hanging): refused, the handler did not run.</summary>
    TryAfterCancel,

    /// <summary>A confirm after cancel, a cancel after confirm, or a confirm with no try: refused, nothing applied.</summary>
    Conflict,
}

/// <summary>The answer for the coordinator and how the barrier reached it.</summary>
/// <param name="Answer">What to answer the coordinator with.</param>
/// <param name="Verdict">What the barrier did: for the participant's logs and counters.</param>
public sealed record BarrierOutcome(BarrierAnswer Answer, BarrierVerdict Verdict);

/// <summary>
/// Makes a participant's try/confirm/cancel handlers safe against the coordinator's retries and reorderings
/// (docs/participants.md): each effect takes place at most once per (gid, branch), a repeated confirm or cancel gets
/// its first answer, a cancel before its try is an empty rollback, a try after its cancel is refused. The decision and
/// the effect are committed in one local transaction of the participant's store. Thread-safe; one per store.
/// </summary>
/// <typeparam name="TTransaction">The store's local transaction.</typeparam>
/// <param name="store">The participant's store, holding the barrier records beside the business data.</param>
public sealed class ParticipantBarrier<TTransaction>(IBarrierStore<TTransaction> store) where TTransaction : IBarrierTransaction
{
    /// <summary>The code of the 409 for a try or a confirm of a branch that was cancelled here.</summary>
    public const string CancelledCode = "barrier_cancelled";

    /// <summary>The code of the 409 for a cancel of a branch that was confirmed here.</summary>
    public const string ConfirmedCode = "barrier_confirmed";

    /// <summary>The code of the 409 for a confirm of a branch whose try never took effect here.</summary>
    public const string NotTriedCode = "barrier_not_tried";

    /// <summary>Calls on the same (gid, branch) run one at a time; other branches share a stripe only by hash collision.</summary>
    private const int LockStripeCount = 256;

    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, LockStripeCount).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>
    /// Runs <paramref name="effect"/> — the business effect of <paramref name="call"/>'s phase, written through the
    /// transaction it is given — if and only if the barrier says it must take effect now, and commits it with the
    /// barrier record when it answers success. A failure answer or an exception commits nothing.
    /// </summary>
    /// <param name="call">The coordinator's call, from <see cref="ParticipantCall.FromHeaders"/>.</param>
    /// <param name="effect">The handler: writes the effect through the transaction and answers; it must not commit it.</param>
    /// <param name="token">Cancels the wait for the branch's lock and the store calls.</param>
    /// <returns>The answer to give the coordinator (the first one again for a repeat) and what the barrier did.</returns>
    public async Task<BarrierOutcome> HandleAsync(ParticipantCall call, Func<TTransaction, CancellationToken, ValueTask<BarrierAnswer>> effect, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(effect);
        var stripe = _stripes[(int)((uint)HashCode.Combine(call.Gid, call.BranchId) % LockStripeCount)];
        await stripe.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var transaction = await store.BeginAsync(token).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var record = await transaction.FindBarrierAsync(call.Gid, call.BranchId, token).ConfigureAwait(false);
                return call.Phase switch
                {
                    BarrierPhase.Try => await TryAsync(call, record, transaction, effect, token).ConfigureAwait(false),
                    BarrierPhase.Confirm => await ConfirmAsync(call, record, transaction, effect, token).ConfigureAwait(false),
                    _ => await CancelAsync(call, record, transaction, effect, token).ConfigureAwait(false),
                };
            }
        }
        finally
        {
            stripe.Release();
        }
    }

    private static async Task<BarrierOutcome> TryAsync(ParticipantCall call, BarrierRecord? record, TTransaction transaction,
        Func<TTransaction, CancellationToken, ValueTask<BarrierAnswer>> effect, CancellationToken token)
    {
        switch (record)
        {
            case { State: BarrierState.Cancelled }:
                return Conflict(CancelledCode, call, "was cancelled before this try arrived; the try is refused and reserves nothing", BarrierVerdict.TryAfterCancel);
            case not null:
                return new BarrierOutcome(record.TryAnswer ?? BarrierAnswer.Ok(), BarrierVerdict.Repeated);
        }
        return await ApplyAsync(transaction, effect, answer => new BarrierRecord(call.Gid, call.BranchId, BarrierState.Tried, answer, null), token).ConfigureAwait(false);
    }

    private static async Task<BarrierOutcome> ConfirmAsync(ParticipantCall call, BarrierRecord? record, TTransaction transaction,
        Func<TTransaction, CancellationToken, ValueTask<BarrierAnswer>> effect, CancellationToken token)
    {
        switch (record)
        {
            case null:
                return Conflict(NotTriedCode, call, "has no successful try here; a confirm needs one", BarrierVerdict.Conflict);
            case { State: BarrierState.Cancelled }:
                return Conflict(CancelledCode, call, "was cancelled; it cannot be confirmed", BarrierVerdict.Conflict);
            case { State: BarrierState.Confirmed }:
                return new BarrierOutcome(record.FinalAnswer ?? BarrierAnswer.Ok(), BarrierVerdict.Repeated);
        }
        return await ApplyAsync(transaction, effect, answer => record with { State = BarrierState.Confirmed, FinalAnswer = answer }, token).ConfigureAwait(false);
    }

    private static async Task<BarrierOutcome> CancelAsync(ParticipantCall call, BarrierRecord? record, TTransaction transaction,
        Func<TTransaction, CancellationToken, ValueTask<BarrierAnswer>> effect, CancellationToken token)
    {
        switch (record)
        {
            case null:
                // No committed try: whatever a try did here was rolled back with it, so there is nothing to undo. The record
                // makes a try that is still on its way be refused when it arrives.
                var empty = BarrierAnswer.Ok("""{"emptyRollback":true}""");
                transaction.SaveBarrier(new BarrierRecord(call.Gid, call.BranchId, BarrierState.Cancelled, null, empty));
                await transaction.CommitAsync(token).ConfigureAwait(false);
                return new BarrierOutcome(empty, BarrierVerdict.EmptyRollback);
            case { State: BarrierState.Confirmed }:
                return Conflict(ConfirmedCode, call, "was confirmed; it cannot be cancelled", BarrierVerdict.Conflict);
            case { State: BarrierState.Cancelled }:
                return new BarrierOutcome(record.FinalAnswer ?? BarrierAnswer.Ok(), BarrierVerdict.Repeated);
        }
        return await ApplyAsync(transaction, effect, answer => record with { State = BarrierState.Cancelled, FinalAnswer = answer }, token).ConfigureAwait(false);
    }

    /// <summary>Runs the effect; on success commits it with the new barrier record, otherwise commits nothing (the caller disposes the transaction).</summary>
    private static async Task<BarrierOutcome> ApplyAsync(TTransaction transaction, Func<TTransaction, CancellationToken, ValueTask<BarrierAnswer>> effect,
        Func<BarrierAnswer, BarrierRecord> recordOf, CancellationToken token)
    {
        var answer = await effect(transaction, token).ConfigureAwait(false);
        if (!answer.IsSuccess) return new BarrierOutcome(answer, BarrierVerdict.NotApplied);
        transaction.SaveBarrier(recordOf(answer));
        await transaction.CommitAsync(token).ConfigureAwait(false);
        return new BarrierOutcome(answer, BarrierVerdict.Applied);
    }

    private static BarrierOutcome Conflict(string code, ParticipantCall call, string what, BarrierVerdict verdict)
    {
        var detail = $"branch {call.BranchId} of {call.Gid} {what}";
        return new BarrierOutcome(new BarrierAnswer(409, ConflictProblem(code, detail)), verdict);
    }

    /// <summary>An RFC 7807 body: type, title, status, code, detail (written directly: no reflection).</summary>
    private static string ConflictProblem(string code, string detail)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "about:blank");
            json.WriteString("title", "Conflict");
            json.WriteNumber("status", 409);
            json.WriteString("code", code);
            json.WriteString("detail", detail);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
