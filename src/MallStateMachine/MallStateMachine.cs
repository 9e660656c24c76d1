using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine;

/// <summary>
/// The whole mall state: stock, submit tokens, orders, key-value, transaction decisions, TCC barriers,
/// idempotency keys, the outbox with application messages, the pull consumers' positions and the push subscriptions.
/// Pure and deterministic: the same commands in the same order give the
/// same state and byte-identical snapshots on every replica. Not thread-safe: one applier at a time
/// (readers synchronize with the applier outside).
/// </summary>
public sealed partial class MallStateMachine
{
    private readonly EventLog _events;
    private readonly Dictionary<string, IdempotencyRecord> _idempotency = new(StringComparer.Ordinal);
    private readonly Queue<IdempotencyRecord> _idempotencyByAge = new();

    public MallStateMachine(int retainedEvents = MallLimits.DefaultRetainedEvents)
    {
        _events = new EventLog(retainedEvents, SuspendLaggingSubscriptions);
    }

    /// <summary>Log time: the largest leader stamp applied so far (Unix ms). Never goes back.</summary>
    public long LogTimeMs { get; private set; }

    /// <summary>Commands applied since this instance was created or restored (statistics only; not part of the state).</summary>
    public long AppliedCommands { get; private set; }

    /// <summary>Applies one command and returns its result; a rejected command changes nothing but log time.</summary>
    public MallResult Apply(MallCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        // A state check leaves the state exactly as it was (not even the command count or the log time move): the hash
        // each replica takes there is the state's, and replicas hashed a little apart in time still compare equal.
        if (command is CheckState) return StateChecked.Instance;
        AppliedCommands++;
        if (command.TimeMs > LogTimeMs) LogTimeMs = command.TimeMs;
        ForgetExpiredIdempotencyKeys();
        ForgetFinishedTransactions();

        if (command is CommandBatch batch) return batch.IdempotencyKey is null ? ApplyBatch(batch) : new Rejected(ErrorCode.Validation, "a command batch has no idempotency key");
        return ApplyOnce(command);
    }

    /// <summary>Applies one command under its idempotency key (when it has one): a repeat returns the first result.</summary>
    private MallResult ApplyOnce(MallCommand command)
    {
        var key = command.IdempotencyKey;
        if (key is null) return Dispatch(command);
        if (Validation.CheckIdempotencyKey(key) is { } keyError) return new Rejected(ErrorCode.Validation, keyError);
        var fingerprint = CommandCodec.Fingerprint(command);
        if (_idempotency.TryGetValue(key, out var earlier))
        {
            return earlier.Fingerprint == fingerprint
                ? earlier.Result
                : new Rejected(ErrorCode.IdempotencyKeyReused, "this Idempotency-Key was used for a different request");
        }
        var result = Dispatch(command);
        Remember(new IdempotencyRecord(key, fingerprint, LogTimeMs, result));
        return result;
    }

    /// <summary>True when <paramref name="key"/> was seen and is still retained.</summary>
    public bool HasIdempotencyKey(string key) => _idempotency.ContainsKey(key);

    public int IdempotencyKeyCount => _idempotency.Count;

    private MallResult Dispatch(MallCommand command) => command switch
    {
        SetStock c => ApplySetStock(c),
        IssueToken c => ApplyIssueToken(c),
        PlaceOrder c => ApplyPlaceOrder(c),
        PayOrder c => ApplyPayOrder(c),
        CancelOrder c => ApplyCancelOrder(c),
        ExpireDue => ApplyExpireDue(),
        KvPut c => ApplyKvPut(c),
        KvDelete c => ApplyKvDelete(c),
        BeginTransaction c => ApplyBeginTransaction(c),
        RegisterBranch c => ApplyRegisterBranch(c),
        RecordVote c => ApplyRecordVote(c),
        DecideTransaction c => ApplyDecide(c),
        RecordPhaseTwo c => ApplyPhaseTwo(c),
        RetryTransaction c => ApplyRetry(c),
        TccBarrier c => ApplyBarrier(c),
        PublishMessage c => ApplyPublish(c),
        PlaceOrderWithMessage c => ApplyPlaceOrderWithMessage(c),
        AckConsumer c => ApplyAckConsumer(c),
        MoveConsumer c => ApplyMoveConsumer(c),
        DeleteConsumer c => ApplyDeleteConsumer(c),
        CreateSubscription c => ApplyCreateSubscription(c),
        RecordSubscriptionProgress c => ApplySubscriptionProgress(c),
        RetrySubscription c => ApplyRetrySubscription(c),
        ResumeSubscription c => ApplyResumeSubscription(c),
        DeleteSubscription c => ApplyDeleteSubscription(c),
        BindMember c => ApplyBindMember(c),
        CheckState => StateChecked.Instance,
        _ => throw new ArgumentException($"unknown command type {command.GetType().Name}", nameof(command)),
    };

    private MallResult ApplyBatch(CommandBatch batch)
    {
        if (batch.Commands is null || batch.Commands.Length > MallLimits.MaxBatchCommands) return Invalid($"a batch holds at most {MallLimits.MaxBatchCommands} commands");
        // Each command stands alone, with its own idempotency key: one that is rejected changes nothing, the others apply.
        var results = new MallResult[batch.Commands.Length];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = batch.Commands[i] switch
            {
                CommandBatch => Invalid("a batch does not nest"),
                var c => ApplyOnce(c),
            };
        }
        return new BatchResult(results);
    }

    private void Remember(IdempotencyRecord record)
    {
        _idempotency.Add(record.Key, record);
        _idempotencyByAge.Enqueue(record);
    }

    // Keys enter in log-time order and log time never goes back, so the queue is ordered by age.
    private void ForgetExpiredIdempotencyKeys()
    {
        while (_idempotencyByAge.TryPeek(out var oldest) && oldest.AtMs + MallLimits.IdempotencyRetentionMs < LogTimeMs)
        {
            _idempotencyByAge.Dequeue();
            _idempotency.Remove(oldest.Key);
        }
    }

    private static Rejected Invalid(string detail) => new(ErrorCode.Validation, detail);

    private static void Require(bool condition, string rule)
    {
        if (!condition) throw new InvariantViolationException(rule);
    }
}

/// <summary>The first answer given for an idempotency key.</summary>
internal sealed record IdempotencyRecord(string Key, ulong Fingerprint, long AtMs, MallResult Result);
