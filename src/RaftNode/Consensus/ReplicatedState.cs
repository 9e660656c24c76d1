using System.Collections.Frozen;
using RaftMall.StateMachine;

namespace RaftMall.Node.Consensus;

/// <summary>
/// This node's copy of the replicated state: <see cref="MallStateMachine"/> behind a lock, the index of the last
/// entry it reflects, and the signals readers wait on. Consensus applies committed commands to it in log order and
/// replaces it with a snapshot; everything else only reads it.
/// </summary>
/// <param name="retainedEvents">The outbox's bound (cluster.yml <c>retainedEvents</c>), the same on every node.</param>
public sealed class ReplicatedState(int retainedEvents = MallLimits.DefaultRetainedEvents)
{
    private readonly Lock _lock = new();
    private MallStateMachine _state = new(retainedEvents);
    private long _lastAppliedIndex;
    private TaskCompletionSource _eventsChanged = NewSignal();
    private FrozenDictionary<string, string> _memberIds = FrozenDictionary<string, string>.Empty;
    private readonly Queue<StateCheck> _checks = new(); // under _lock

    /// <summary>How many state checks a node keeps (the newest).</summary>
    public const int KeptStateChecks = 64;

    /// <summary>The hash of the whole state as of the <see cref="CheckState"/> entry at <paramref name="Index"/>.</summary>
    public readonly record struct StateCheck(long Index, ulong Hash);

    /// <summary>The outbox's bound, which a restored snapshot keeps too.</summary>
    public int RetainedEvents { get; } = retainedEvents;

    /// <summary>Index of the last log entry this state reflects.</summary>
    public long LastAppliedIndex => Interlocked.Read(ref _lastAppliedIndex);

    /// <summary>When this node applied the entries that emitted the newest events (local, not replicated).</summary>
    public EventApplyTimes EventApplyTimes { get; } = new();

    /// <summary>Completes when the next event is appended to the outbox (or the state is replaced).</summary>
    public Task EventsChanged => Volatile.Read(ref _eventsChanged).Task;

    /// <summary>
    /// The member directory's identities (canonical address to member id), read without the state's lock: every Raft
    /// request reads it (<c>Security/PeerSigner</c>, <c>Security/PeerIdentityCheck</c>) and it changes rarely.
    /// </summary>
    public IReadOnlyDictionary<string, string> MemberIds => Volatile.Read(ref _memberIds);

    /// <summary>Raised after each applied command, outside the state lock, on the applying thread: handlers must be quick.</summary>
    public event Action<MallCommand>? CommandApplied;

    /// <summary>The newest state checks, oldest first (kept across snapshot installs: they are this node's record).</summary>
    public IReadOnlyList<StateCheck> StateChecks
    {
        get
        {
            lock (_lock) return [.. _checks];
        }
    }

    /// <summary>Runs a read against the state; reads never see a half-applied command.</summary>
    public T Read<T>(Func<MallStateMachine, T> read)
    {
        lock (_lock) return read(_state);
    }

    /// <summary>Marks <paramref name="index"/> applied for an entry that carries no command (a leader's no-op, a configuration).</summary>
    public void Skip(long index) => Interlocked.Exchange(ref _lastAppliedIndex, index);

    /// <summary>Applies the committed command of entry <paramref name="index"/>; raises <see cref="InvariantViolationException"/> as the state machine does.</summary>
    public MallResult Apply(long index, MallCommand command)
    {
        MallResult result;
        long eventsBefore, eventsAfter;
        lock (_lock)
        {
            Interlocked.Exchange(ref _lastAppliedIndex, index);
            eventsBefore = _state.LastEventSequence;
            result = _state.Apply(command);
            eventsAfter = _state.LastEventSequence;
            if (command is BindMember || (command is CommandBatch batch && Array.Exists(batch.Commands, c => c is BindMember))) RefreshMemberIds();
        }
        if (eventsAfter != eventsBefore)
        {
            EventApplyTimes.Note(eventsBefore + 1, eventsAfter, System.Diagnostics.Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref _eventsChanged, NewSignal()).TrySetResult();
        }
        CommandApplied?.Invoke(command);
        return result;
    }

    /// <summary>Serializes the state into <paramref name="buffer"/> under the lock; returns its order count.</summary>
    public int WriteSnapshot(StateMachine.Codec.ByteWriter buffer)
    {
        lock (_lock)
        {
            _state.WriteSnapshot(buffer);
            return _state.OrderCount;
        }
    }

    /// <summary>Replaces the state with one restored from a snapshot of entry <paramref name="index"/>.</summary>
    public void Replace(MallStateMachine restored, long index)
    {
        lock (_lock)
        {
            _state = restored;
            Interlocked.Exchange(ref _lastAppliedIndex, index);
            RefreshMemberIds();
        }
        EventApplyTimes.Clear();
        Interlocked.Exchange(ref _eventsChanged, NewSignal()).TrySetResult();
    }

    /// <summary>
    /// Records the state hash at the <see cref="CheckState"/> entry <paramref name="index"/> (taken off the apply path,
    /// on the snapshot shadow: <c>Consensus/Raft/ShadowSnapshots</c>); checks arrive in log order.
    /// </summary>
    public void RecordCheck(long index, ulong hash)
    {
        lock (_lock)
        {
            if (_checks.Count == KeptStateChecks) _checks.Dequeue();
            _checks.Enqueue(new(index, hash));
        }
    }

    // Under the lock: the copy matches the state it was read from.
    private void RefreshMemberIds() => Volatile.Write(ref _memberIds, _state.MemberIds().ToFrozenDictionary(StringComparer.Ordinal));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
