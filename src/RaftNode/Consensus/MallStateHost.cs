using System.Diagnostics;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.Consensus;

/// <summary>
/// The adapter between DotNext's log and <see cref="MallStateMachine"/>: decodes each committed entry, applies it,
/// hands the result to the proposing request, and snapshots the state every N entries.
/// </summary>
public sealed partial class MallStateHost : SimpleStateMachine
{
    private readonly Lock _lock = new();
    private readonly ILogger<MallStateHost> _logger;
    private readonly int _snapshotIntervalEntries;
    private readonly ByteWriter _snapshotBuffer = new(1024 * 1024);
    private MallStateMachine _state = new();
    private int _appliedSinceSnapshot;
    private long _lastAppliedIndex;
    private long _snapshotsTaken;
    private long _snapshotsRestored;
    private TaskCompletionSource _eventsChanged = NewSignal();

    public MallStateHost(NodeSettings settings, ILogger<MallStateHost> logger)
        : base(new DirectoryInfo(settings.SnapshotDirectory))
    {
        _logger = logger;
        _snapshotIntervalEntries = settings.Cluster.SnapshotIntervalEntries;
    }

    /// <summary>Index of the last log entry this state reflects.</summary>
    public long LastAppliedIndex => Interlocked.Read(ref _lastAppliedIndex);

    public long SnapshotsTaken => Interlocked.Read(ref _snapshotsTaken);

    public long SnapshotsRestored => Interlocked.Read(ref _snapshotsRestored);

    /// <summary>Index of the newest snapshot on disk (0 when none).</summary>
    public long SnapshotIndex => ((ISnapshotManager)this).Snapshot?.Index ?? 0L;

    /// <summary>Completes when the next event is appended to the outbox.</summary>
    public Task EventsChanged => Volatile.Read(ref _eventsChanged).Task;

    /// <summary>Raised after each applied command, outside the state lock, on the applying thread: handlers must be quick.</summary>
    public event Action<MallCommand>? CommandApplied;

    /// <summary>Runs a read against the state; reads never see a half-applied command.</summary>
    public T Read<T>(Func<MallStateMachine, T> read)
    {
        lock (_lock) return read(_state);
    }

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        Interlocked.Exchange(ref _lastAppliedIndex, entry.Index);
        // A new leader's no-op and configuration entries carry no command.
        if (entry.IsConfiguration || !entry.TryGetPayload(out var payload) || payload.IsEmpty) return ValueTask.FromResult(false);

        long proposalId;
        MallCommand command;
        try
        {
            (proposalId, command) = Proposal.Decode(payload);
        }
        catch (MallCodecException e)
        {
            // Every replica decodes the same bytes the same way, so skipping keeps them equal. Nodes validate before
            // proposing: this means a bug or a newer node's command version, and an operator must look.
            LogUndecodableEntry(entry.Index, e.Message);
            return ValueTask.FromResult(false);
        }

        MallResult result;
        bool newEvents;
        lock (_lock)
        {
            var eventsBefore = _state.LastEventSequence;
            try
            {
                result = _state.Apply(command);
            }
            catch (InvariantViolationException e)
            {
                LogInvariantBroken(entry.Index, e.Message);
                throw;
            }
            newEvents = _state.LastEventSequence != eventsBefore;
        }
        if (entry.Context is Proposal proposal && proposal.Id == proposalId)
        {
            proposal.Result = result;
            proposal.AppliedIndex = entry.Index;
        }
        if (newEvents) Interlocked.Exchange(ref _eventsChanged, NewSignal()).TrySetResult();
        CommandApplied?.Invoke(command);

        // Count commands, not entries: with group commit one entry can hold hundreds of writes, and the log a restart
        // replays should stay bounded by what it holds.
        _appliedSinceSnapshot += command is CommandBatch batch ? Math.Max(1, batch.Commands.Length) : 1;
        if (_appliedSinceSnapshot < _snapshotIntervalEntries) return ValueTask.FromResult(false);
        _appliedSinceSnapshot = 0;
        return ValueTask.FromResult(true); // DotNext calls PersistAsync on a background task
    }

    // The next ApplyAsync waits for this to finish, so the state does not change under it; reads go on meanwhile
    // except while the bytes are produced under the lock.
    protected override async ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        int orders;
        lock (_lock)
        {
            _state.WriteSnapshot(_snapshotBuffer);
            orders = _state.OrderCount;
        }
        var serializeMs = clock.ElapsedMilliseconds;
        await writer.WriteAsync(_snapshotBuffer.WrittenMemory, lengthFormat: null, token).ConfigureAwait(false);
        Interlocked.Increment(ref _snapshotsTaken);
        LogSnapshotTaken(LastAppliedIndex, _snapshotBuffer.Length, orders, serializeMs, clock.ElapsedMilliseconds);
    }

    // At startup (newest local snapshot) and when the leader installs a snapshot on this follower.
    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var bytes = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        var restored = MallStateMachine.Restore(bytes);
        lock (_lock) _state = restored;
        _appliedSinceSnapshot = 0;
        if (long.TryParse(snapshotFile.Name.Split('-')[0], out var index)) Interlocked.Exchange(ref _lastAppliedIndex, index);
        Interlocked.Increment(ref _snapshotsRestored);
        Interlocked.Exchange(ref _eventsChanged, NewSignal()).TrySetResult();
        LogSnapshotRestored(snapshotFile.Name, bytes.Length, restored.OrderCount, clock.ElapsedMilliseconds);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Critical, Message = "log entry {Index} cannot be decoded and was skipped: {Reason}")]
    private partial void LogUndecodableEntry(long index, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "applying log entry {Index} broke an invariant: {Rule}")]
    private partial void LogInvariantBroken(long index, string rule);

    [LoggerMessage(Level = LogLevel.Information, Message = "snapshot taken at index {Index}: {Bytes} bytes, {Orders} orders, serialized in {SerializeMs} ms, written in {TotalMs} ms")]
    private partial void LogSnapshotTaken(long index, int bytes, int orders, long serializeMs, long totalMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "snapshot {File} restored: {Bytes} bytes, {Orders} orders, in {Ms} ms")]
    private partial void LogSnapshotRestored(string file, int bytes, int orders, long ms);
}
