using System.Diagnostics;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// The adapter between DotNext's log and <see cref="MallStateMachine"/>: decodes each committed entry, applies it,
/// hands the result to the proposing request, and snapshots the state every N entries.
/// </summary>
public sealed partial class MallStateHost : SimpleStateMachine
{
    private readonly ReplicatedState _state;
    private readonly ILogger<MallStateHost> _logger;
    private readonly int _snapshotIntervalEntries;
    private readonly ByteWriter _snapshotBuffer = new(1024 * 1024);
    private int _appliedSinceSnapshot;
    private long _snapshotsTaken;
    private long _snapshotsRestored;

    public MallStateHost(ReplicatedState state, NodeSettings settings, ILogger<MallStateHost> logger)
        : base(new DirectoryInfo(settings.SnapshotDirectory))
    {
        _state = state;
        _logger = logger;
        _snapshotIntervalEntries = settings.Cluster.SnapshotIntervalEntries;
    }

    public long SnapshotsTaken => Interlocked.Read(ref _snapshotsTaken);

    public long SnapshotsRestored => Interlocked.Read(ref _snapshotsRestored);

    /// <summary>Index of the newest snapshot on disk (0 when none).</summary>
    public long SnapshotIndex => ((ISnapshotManager)this).Snapshot?.Index ?? 0L;

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        // A new leader's no-op and configuration entries carry no command.
        if (entry.IsConfiguration || !entry.TryGetPayload(out var payload) || payload.IsEmpty)
        {
            _state.Skip(entry.Index);
            return ValueTask.FromResult(false);
        }

        var started = Stopwatch.GetTimestamp();
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
            _state.Skip(entry.Index);
            LogUndecodableEntry(entry.Index, e.Message);
            return ValueTask.FromResult(false);
        }

        MallResult result;
        try
        {
            result = _state.Apply(entry.Index, command);
        }
        catch (InvariantViolationException e)
        {
            LogInvariantBroken(entry.Index, e.Message);
            throw;
        }
        if (entry.Context is Proposal proposal && proposal.Id == proposalId)
        {
            proposal.Result = result;
            proposal.AppliedIndex = entry.Index;
            proposal.ApplyStarted = started;
            proposal.ApplyFinished = Stopwatch.GetTimestamp();
        }

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
        var orders = _state.WriteSnapshot(_snapshotBuffer);
        var serializeMs = clock.ElapsedMilliseconds;
        await writer.WriteAsync(_snapshotBuffer.WrittenMemory, lengthFormat: null, token).ConfigureAwait(false);
        Interlocked.Increment(ref _snapshotsTaken);
        NodeTelemetry.SnapshotDuration.Record(clock.Elapsed.TotalSeconds);
        NodeTelemetry.SnapshotSize.Record(_snapshotBuffer.Length);
        LogSnapshotTaken(_state.LastAppliedIndex, _snapshotBuffer.Length, orders, serializeMs, clock.ElapsedMilliseconds);
    }

    // At startup (newest local snapshot) and when the leader installs a snapshot on this follower.
    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var bytes = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        var restored = MallStateMachine.Restore(bytes, _state.RetainedEvents);
        _state.Replace(restored, long.TryParse(snapshotFile.Name.Split('-')[0], out var index) ? index : _state.LastAppliedIndex);
        _appliedSinceSnapshot = 0;
        Interlocked.Increment(ref _snapshotsRestored);
        LogSnapshotRestored(snapshotFile.Name, bytes.Length, restored.OrderCount, clock.ElapsedMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "log entry {Index} cannot be decoded and was skipped: {Reason}")]
    private partial void LogUndecodableEntry(long index, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "applying log entry {Index} broke an invariant: {Rule}")]
    private partial void LogInvariantBroken(long index, string rule);

    [LoggerMessage(Level = LogLevel.Information, Message = "snapshot taken at index {Index}: {Bytes} bytes, {Orders} orders, serialized in {SerializeMs} ms, written in {TotalMs} ms")]
    private partial void LogSnapshotTaken(long index, int bytes, int orders, long serializeMs, long totalMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "snapshot {File} restored: {Bytes} bytes, {Orders} orders, in {Ms} ms")]
    private partial void LogSnapshotRestored(string file, int bytes, int orders, long ms);
}
