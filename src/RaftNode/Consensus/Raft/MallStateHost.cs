using System.Diagnostics;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// The adapter between DotNext's log and <see cref="MallStateMachine"/>: decodes each committed entry, applies it,
/// hands the result to the proposing request, snapshots the state every N commands without pausing, and installs the
/// snapshots a leader sends.
/// </summary>
/// <remarks>
/// This implements DotNext's <see cref="IStateMachine"/> directly rather than deriving from its
/// <c>SimpleStateMachine</c>: that class makes every apply wait for the previous snapshot to be serialized, written and
/// flushed, which under load stalled applying, and every write behind it, for up to ~0.5 s per snapshot. Here a
/// snapshot is written by <see cref="ShadowSnapshots"/> in the background while applying goes on, and published
/// (<see cref="ISnapshotManager.Snapshot"/>, which the log compacts behind) only once it is whole on disk.
/// <para>The log keeps a tail past the newest snapshot: what this publishes is the snapshot before the newest, so the
/// log is compacted only up to it and still holds the last interval's entries. A follower that was down for less than
/// an interval (a restart, a kill in a failover) then catches up from the log in a few rounds instead of being sent the
/// whole state (tens of megabytes, a second or more to install, during which a leader that needs it for its majority
/// commits nothing). etcd keeps such a tail too (5,000 entries past its snapshot). See <see cref="SnapshotFiles.MarkTail"/>
/// for how a restart knows the tail is there.</para>
/// </remarks>
public sealed partial class MallStateHost : IStateMachine, IAsyncDisposable
{
    private readonly ReplicatedState _state;
    private readonly ILogger<MallStateHost> _logger;
    private readonly int _snapshotIntervalEntries;
    private readonly int _snapshotStagger;
    private readonly DirectoryInfo _directory;
    private readonly ShadowSnapshots _shadow;
    private int _disposed;
    private readonly ApplyTrace? _trace;
    private volatile SnapshotFile? _newest; // the newest snapshot whole on disk: what a restart restores
    private volatile SnapshotFile? _published; // what the log compacts behind and sends to followers behind it
    private long _appliedIndex;
    private int _appliedSinceSnapshot;
    private long _longestApplyTicks; // since the snapshot in flight began: what applying paid while it was written
    private long _snapshotsTaken;
    private long _snapshotsRestored;

    public MallStateHost(ReplicatedState state, NodeSettings settings, ILogger<MallStateHost> logger, ApplyTrace? trace = null)
    {
        _state = state;
        _trace = trace;
        _logger = logger;
        _snapshotIntervalEntries = settings.Cluster.SnapshotIntervalEntries;
        _snapshotStagger = SnapshotStagger(_snapshotIntervalEntries, settings.Cluster.Nodes.FindIndex(n => n.Id == settings.NodeId), settings.Cluster.Nodes.Count);
        _appliedSinceSnapshot = -_snapshotStagger;
        _directory = new DirectoryInfo(settings.SnapshotDirectory);
        _directory.Create();
        _shadow = new ShadowSnapshots(new MallStateMachine(state.RetainedEvents), 0, PersistAsync, logger, state.RecordCheck);
    }

    /// <summary>
    /// How many commands later than the interval this node takes its first snapshot after a start or a restore: the
    /// member at <paramref name="position"/> of <paramref name="members"/> in the cluster file waits
    /// <c>interval × position / (2 × members)</c> more, so the members' snapshots (tens of megabytes serialized and
    /// flushed on each) come at different times instead of all at the same index at once. Traced under full load: the
    /// three nodes writing 82 MB snapshots together held the leader's answers past its step-down window
    /// (docs/benchmarks.md, "elections under load"). A member the file does not list (added later) waits half an
    /// interval. Every later snapshot comes an interval after the previous one, so the offsets stay.
    /// </summary>
    public static int SnapshotStagger(int interval, int position, int members) =>
        members <= 1 || interval <= 1 ? 0 : position < 0 ? interval / 2 : (int)((long)interval * position / (2L * members));

    public long SnapshotsTaken => Interlocked.Read(ref _snapshotsTaken);

    public long SnapshotsRestored => Interlocked.Read(ref _snapshotsRestored);

    /// <summary>Index of the newest snapshot on disk (0 when none).</summary>
    public long SnapshotIndex => _newest?.Index ?? 0L;

    /// <summary>Index of the snapshot the log is compacted behind (0 when none): the one before the newest, or the newest when the log holds no tail past it.</summary>
    public long PublishedSnapshotIndex => _published?.Index ?? 0L;

    ISnapshot? ISnapshotManager.Snapshot => _published;

    /// <summary>
    /// Restores the newest snapshot on disk, if any. Must finish before DotNext's log is created: the log reads the
    /// snapshot's index in its constructor, and without it would replay the whole log from the start. The state is
    /// the newest snapshot's; the log is told of the one before it when the newest was taken with the log's tail kept
    /// past it (the log then replays that tail, which applying passes over up to the newest).
    /// </summary>
    public async Task RestoreAsync(CancellationToken token)
    {
        SnapshotFiles.DeletePartials(_directory);
        var snapshots = SnapshotFiles.All(_directory).OrderByDescending(s => s.Index).Take(2).ToList();
        if (snapshots.Count == 0) return;
        var (file, index, term) = snapshots[0];
        var clock = Stopwatch.StartNew();
        var bytes = await File.ReadAllBytesAsync(file.FullName, token).ConfigureAwait(false);
        var restored = MallStateMachine.Restore(bytes, _state.RetainedEvents);
        Load(restored, MallStateMachine.Restore(bytes, _state.RetainedEvents), index, term);
        _newest = _published = new SnapshotFile(file, index, term);
        if (snapshots.Count > 1 && SnapshotFiles.HasTail(_directory, index, term))
        {
            var (previous, previousIndex, previousTerm) = snapshots[1];
            _published = new SnapshotFile(previous, previousIndex, previousTerm);
        }
        LogSnapshotRestored(file.Name, bytes.Length, restored.OrderCount, clock.ElapsedMilliseconds);
    }

    ValueTask ISnapshotManager.ReclaimGarbageAsync(long watermark, CancellationToken token)
    {
        // The log guarantees nobody will ask for a snapshot below the watermark; the published one is never below it,
        // and the newest is at or above it.
        foreach (var (file, index, _) in SnapshotFiles.All(_directory))
        {
            token.ThrowIfCancellationRequested();
            if (index < watermark && index != _published?.Index) file.Delete();
        }
        SnapshotFiles.DeleteTailMarks(_directory, below: watermark);
        return ValueTask.CompletedTask;
    }

    ValueTask<long> IStateMachine.ApplyAsync(LogEntry entry, CancellationToken token)
    {
        if (_appliedIndex >= entry.Index) return ValueTask.FromResult(_appliedIndex); // covered by the restored snapshot
        if (entry.IsSnapshot) return InstallAsync(entry, token);
        if (entry.Index != _appliedIndex + 1) NoteGap(entry);
        var started = Stopwatch.GetTimestamp();
        var applied = Apply(entry);
        var took = Stopwatch.GetTimestamp() - started;
        if (took > Interlocked.Read(ref _longestApplyTicks)) Interlocked.Exchange(ref _longestApplyTicks, took); // one writer
        return ValueTask.FromResult(applied);
    }

    /// <summary>
    /// Called twice at a node's stop: the container disposes the instance it made for this type and, again, the same
    /// instance registered as DotNext's <see cref="IStateMachine"/>; the second call does nothing.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _shadow.DisposeAsync().ConfigureAwait(false);
        _trace?.Dispose();
    }

    /// <summary>
    /// DotNext hands the state machine only entries whose metadata says they carry something: a leader's no-op and
    /// the empty entry a membership change commits are passed over, and so would be an entry whose metadata reads back
    /// as zeros. Which it was only the other replicas can tell: the apply trace records the gap, and
    /// <c>raftmall verify</c> compares it with what they applied at those indexes.
    /// </summary>
    private void NoteGap(LogEntry entry)
    {
        _trace?.PassedOver(_appliedIndex + 1, entry.Index - 1);
        LogPassedOver(_appliedIndex + 1, entry.Index - 1, entry.Index);
    }

    private long Apply(LogEntry entry)
    {
        // A new leader's no-op and configuration entries carry no command.
        if (entry.IsConfiguration || !entry.TryGetPayload(out var payload) || payload.IsEmpty)
        {
            _trace?.NoCommand(entry.Index, entry.Term);
            _state.Skip(entry.Index);
            return _appliedIndex = entry.Index;
        }

        _trace?.Command(entry.Index, entry.Term, payload);
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
            return _appliedIndex = entry.Index;
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
        _shadow.Follow(entry.Index, payload, check: command is CheckState);

        // Count commands, not entries: with group commit one entry can hold hundreds of writes, and the log a restart
        // replays should stay bounded by what it holds. While a snapshot is still being written the count goes on and
        // the next entry asks again.
        _appliedSinceSnapshot += command is CommandBatch batch ? Math.Max(1, batch.Commands.Length) : 1;
        if (_appliedSinceSnapshot >= _snapshotIntervalEntries && _shadow.TryBegin(new(entry.Index, entry.Term)))
        {
            _appliedSinceSnapshot = 0;
            Interlocked.Exchange(ref _longestApplyTicks, 0);
        }
        return _appliedIndex = entry.Index;
    }

    // Runs on the shadow's background task: the bytes are the state at target.Index; applying goes on meanwhile.
    private async Task PersistAsync(ShadowSnapshots.Target target, ReadOnlyMemory<byte> bytes, ShadowSnapshots.Work work, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var file = await SnapshotFiles.WriteAsync(_directory, target.Index, target.Term, bytes, token).ConfigureAwait(false);
        token.ThrowIfCancellationRequested(); // a snapshot installed meanwhile supersedes this one
        // The log compacts behind the previous snapshot, keeping the entries since then; the first snapshot has none
        // before it and is published itself. The mark tells a restart the same (written before the log can compact).
        var previous = _newest;
        if (previous is not null) SnapshotFiles.MarkTail(_directory, target.Index, target.Term);
        _newest = new SnapshotFile(file, target.Index, target.Term);
        _published = previous ?? _newest;
        Interlocked.Increment(ref _snapshotsTaken);
        var totalMs = work.CatchUpMs + work.SerializeMs + clock.Elapsed.TotalMilliseconds;
        NodeTelemetry.SnapshotDuration.Record(totalMs / 1000);
        NodeTelemetry.SnapshotSize.Record(bytes.Length);
        var longestApplyMs = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _longestApplyTicks)).TotalMilliseconds;
        var writeMs = clock.Elapsed.TotalMilliseconds;
        LogSnapshotTaken(target.Index, bytes.Length, work.Entries, work.CatchUpMs, work.SerializeMs, writeMs, totalMs, longestApplyMs);
    }

    // A leader's snapshot for a follower too far behind: DotNext calls this with its append lock held, never
    // concurrently with Apply. Checked whole before anything changes, so a cut-off transfer changes nothing.
    private async ValueTask<long> InstallAsync(LogEntry entry, CancellationToken token)
    {
        await _shadow.StopAsync().ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var bytes = await entry.ToByteArrayAsync(token: token).ConfigureAwait(false);
        var restored = MallStateMachine.Restore(bytes, _state.RetainedEvents); // raises on damage
        var shadow = MallStateMachine.Restore(bytes, _state.RetainedEvents);
        var file = await SnapshotFiles.WriteAsync(_directory, entry.Index, entry.Term, bytes, token).ConfigureAwait(false);
        Load(restored, shadow, entry.Index, entry.Term);
        // The log holds nothing useful before an installed snapshot: it is published itself, and has no tail mark.
        _newest = _published = new SnapshotFile(file, entry.Index, entry.Term);
        LogSnapshotRestored(file.Name, bytes.Length, restored.OrderCount, clock.ElapsedMilliseconds);
        return _appliedIndex;
    }

    // The node's state and the shadow (two copies restored from the same bytes) start from the snapshot of `index`.
    private void Load(MallStateMachine restored, MallStateMachine shadow, long index, long term)
    {
        _trace?.Restored(index, term);
        _state.Replace(restored, index);
        _shadow.Reset(shadow, index);
        _appliedIndex = index;
        _appliedSinceSnapshot = -_snapshotStagger;
        Interlocked.Increment(ref _snapshotsRestored);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "log entry {Index} cannot be decoded and was skipped: {Reason}")]
    private partial void LogUndecodableEntry(long index, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "log entries {From}..{To} carried nothing for the state machine (a leader's no-op, a membership change); applying goes on at {Next}")]
    private partial void LogPassedOver(long from, long to, long next);

    [LoggerMessage(Level = LogLevel.Critical, Message = "applying log entry {Index} broke an invariant: {Rule}")]
    private partial void LogInvariantBroken(long index, string rule);

    [LoggerMessage(Level = LogLevel.Information, Message = "snapshot taken at index {Index}: {Bytes} bytes in {TotalMs:F0} ms (the shadow applied {Entries} entries in {CatchUpMs:F0} ms, serialized in {SerializeMs:F0} ms, wrote and flushed in {WriteMs:F0} ms); applying went on, its longest entry meanwhile {LongestApplyMs:F2} ms")]
    private partial void LogSnapshotTaken(long index, int bytes, int entries, double catchUpMs, double serializeMs, double writeMs, double totalMs, double longestApplyMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "snapshot {File} restored: {Bytes} bytes, {Orders} orders, in {Ms} ms")]
    private partial void LogSnapshotRestored(string file, int bytes, int orders, long ms);
}
