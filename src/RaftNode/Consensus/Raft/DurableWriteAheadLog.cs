using System.Diagnostics;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftMall.Node.Observability;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// DotNext's write-ahead log with two fixes on a follower's append: it returns only after the appended entries are on
/// disk, and it never cuts entries the log already holds (Raft §5.3: only a conflicting entry truncates).
/// </summary>
/// <remarks>
/// <para>
/// DotNext 6.12 flushes before the leader counts an entry toward commit, but a follower appends into memory (private
/// memory with cluster.yml's default logMemory: private, mapped log pages with shared) and acknowledges AppendEntries
/// at once; its checkpoint (the last index a restarted node trusts) catches up later. A follower killed in between has
/// acknowledged entries it forgets, and a majority of such followers can elect a leader without a committed entry
/// (docs/dotnext.md).
/// Raft calls the log through <see cref="IAuditTrail{TEntry}"/>; the base class implements those members
/// non-virtually, so re-implementing the interface here redirects exactly the follower's append paths
/// (AppendEntries and InstallSnapshot) to "append, then flush". The leader's own append is left alone.
/// </para>
/// <para>
/// DotNext 6.12 writes an AppendEntries' entries from its first index on and makes the last one written the end of the
/// log, whatever the log held after it. Raft truncates only at an entry whose term conflicts. The difference matters
/// when an AppendEntries arrives after a newer one from the same leader (a request the leader gave up on, processed
/// late; a frozen leader's request finishing after it resumes): it cut entries the follower had already acknowledged,
/// which the leader may have counted toward a commit. A majority that forgot a committed entry then elected a leader
/// without it, and the old leader, whose log skips committed indexes, kept its own entries there: acknowledged writes
/// lost on the new majority and replicas that disagreed (found by <c>raftmall verify --nemesis all --seed 303</c>,
/// docs/dotnext.md). So the entries this log already holds with the same term (and, where known, the same length: see
/// <see cref="HoldsAsync"/>) are skipped before DotNext appends,
/// and an AppendEntries that brings nothing new appends (and cuts) nothing.
/// </para>
/// </remarks>
public sealed partial class DurableWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine, bool durableFollowerAppends, ILogger? logger = null)
    : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>, IAuditTrail
{
    private long _commitsHeldBack;
    private long _followerFlushes;
    private long _heldEntriesKept;
    private long _damagedEntriesReplaced;

    /// <summary>
    /// The highest index the leader may commit when DotNext asks for an index (see <see cref="ReplicationProgress"/>);
    /// set at startup.
    /// </summary>
    public Func<long, long>? CommitBound { get; set; }

    private static readonly AsyncLocal<FollowerAppendScope?> s_followerAppend = new();

    /// <summary>
    /// Marks the flow of an AppendEntries this node handles as a follower (the Raft endpoint opens it around DotNext's
    /// handler): a commit asked for inside it is the follower's, at the leader's commit index, which is not bounded
    /// here. Every other commit is a leader round's, and is. The scope is closed when the request ends, so a task that
    /// DotNext starts inside it and that outlives it (a timer that later leads) is not taken for a follower.
    /// </summary>
    public static IDisposable FollowerAppend() => s_followerAppend.Value = new FollowerAppendScope();

    private sealed class FollowerAppendScope : IDisposable
    {
        public bool Open { get; private set; } = true;

        public void Dispose() => Open = false;
    }

    /// <summary>Leader commits DotNext asked for beyond what a majority had confirmed, and that were held back to it.</summary>
    public long CommitsHeldBack => Interlocked.Read(ref _commitsHeldBack);

    // Leader: LeaderState commits the median of a round's answers; follower: AppendEntries commits min(leader's, last).
    // A round that finishes after its leader stepped down is still a leader's round: only the follower scope tells.
    ValueTask<long> IAuditTrail.CommitAsync(long endIndex, CancellationToken token)
    {
        if (s_followerAppend.Value is not { Open: true } && CommitBound is { } bound && bound(endIndex) is var safe && safe < endIndex)
        {
            Interlocked.Increment(ref _commitsHeldBack);
            NodeTelemetry.CommitsHeldBack.Add(1);
            if (logger is not null) LogCommitHeldBack(logger, endIndex, safe);
            if (safe <= LastCommittedEntryIndex) return ValueTask.FromResult(0L);
            endIndex = safe;
        }
        return CommitAsync(endIndex, token);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "commit of {Requested} held back to {Safe}: a majority had not confirmed more")]
    private static partial void LogCommitHeldBack(ILogger logger, long requested, long safe);

    /// <summary>Flushes made for follower appends (0 when the fix is off).</summary>
    public long FollowerFlushes => Interlocked.Read(ref _followerFlushes);

    public bool DurableFollowerAppends => durableFollowerAppends;

    // Follower: AppendEntries -> AppendAsync(entries, prevLogIndex + 1, skipCommitted: true).
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        var carried = entries.RemainingCount;
        var (rest, restIndex) = await SkipHeldAsync(entries, startIndex, token).ConfigureAwait(false);
        if (rest is null)
        {
            // Everything already held: nothing to write, and nothing after it is cut. But the answer acknowledges the
            // entries, and the request that appended them may have failed between its append and its flush (a
            // deadline, a dropped connection): flush, so that nothing is acknowledged before it is on disk.
            if (carried > 0) await FlushIfDurableAsync(token).ConfigureAwait(false);
            return;
        }
        var appended = rest.RemainingCount; // heartbeats append nothing and need no flush
        await AppendAsync(rest, restIndex, skipCommitted, token).ConfigureAwait(false);
        if (appended > 0) await FlushIfDurableAsync(token).ConfigureAwait(false);
    }

    /// <summary>Entries whose stale AppendEntries would have cut this log, and were kept (see the remarks).</summary>
    public long HeldEntriesKept => Interlocked.Read(ref _heldEntriesKept);

    /// <summary>
    /// Moves past the leading entries this log already holds: at or below the commit index (they match by definition)
    /// or with the term this log holds at their index. Returns the entries from the first new or conflicting one on and
    /// its index, or null when every entry was held.
    /// </summary>
    private async ValueTask<(ILogEntryProducer<TEntry>? Remaining, long Index)> SkipHeldAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        var last = LastEntryIndex;
        if (startIndex > last || entries.RemainingCount == 0) return (entries, startIndex);
        var committed = LastCommittedEntryIndex;
        var index = startIndex;
        while (await entries.MoveNextAsync().ConfigureAwait(false))
        {
            if (index > last || (index > committed && !await HoldsAsync(index, entries.Current, token).ConfigureAwait(false)))
            {
                return (new Resumed<TEntry>(entries), index);
            }
            index++;
        }
        // DotNext would have written the held entries above the commit index and ended the log at the last of them.
        if (index - 1 > committed && index - 1 < last)
        {
            Interlocked.Add(ref _heldEntriesKept, last - (index - 1));
            if (logger is not null) LogHeldEntriesKept(logger, startIndex, index - 1, last);
        }
        return (null, index);
    }

    /// <summary>
    /// True when this log holds <paramref name="entry"/> at <paramref name="index"/>: the same term (Raft's test) and,
    /// where both are known, the same length. DotNext records an entry's length as the bytes it actually wrote, so an
    /// entry whose transfer ended early is held short under the right term; Raft's test alone would keep it for ever
    /// (and the state machine would be handed a truncated command, or none). A length that differs is rewritten from
    /// the leader's copy instead.
    /// </summary>
    private async ValueTask<bool> HoldsAsync<TEntry>(long index, TEntry entry, CancellationToken token)
        where TEntry : IRaftLogEntry
    {
        var held = await ReadAsync(HeldEntry.Instance, index, index, token).ConfigureAwait(false);
        if (held.Term != entry.Term) return false;
        if (entry.Length is { } length && held.Length is { } heldLength && length != heldLength)
        {
            Interlocked.Increment(ref _damagedEntriesReplaced);
            if (logger is not null) LogDamagedEntryReplaced(logger, index, heldLength, length);
            return false;
        }
        return true;
    }

    /// <summary>Held entries whose length differed from the leader's copy, rewritten (see <see cref="HoldsAsync"/>).</summary>
    public long DamagedEntriesReplaced => Interlocked.Read(ref _damagedEntriesReplaced);

    [LoggerMessage(Level = LogLevel.Error, Message = "log entry {Index} was held with {HeldBytes} bytes and its term, but the leader's copy has {Bytes}: rewritten from the leader's")]
    private static partial void LogDamagedEntryReplaced(ILogger logger, long index, long heldBytes, long bytes);

    /// <summary>The rest of a producer that was moved onto its first entry to append, from that entry on.</summary>
    private sealed class Resumed<TEntry>(ILogEntryProducer<TEntry> entries) : ILogEntryProducer<TEntry>
        where TEntry : IRaftLogEntry
    {
        private bool _started;

        public long RemainingCount => _started ? entries.RemainingCount : entries.RemainingCount + 1;

        public TEntry Current => entries.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            if (_started) return entries.MoveNextAsync();
            _started = true;
            return ValueTask.FromResult(true);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the caller owns the producer
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "an AppendEntries with entries {First}..{End}, all held already, arrived after newer ones (log ends at {Last}): appended nothing, and kept the entries after {End} that DotNext would have cut")]
    private static partial void LogHeldEntriesKept(ILogger logger, long first, long end, long last);

    // Follower: InstallSnapshot -> AppendAsync(snapshot, snapshotIndex). The snapshot file is flushed by MallStateHost before it is installed;
    // the flush moves the checkpoint past it.
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(TEntry entry, long startIndex, CancellationToken token)
    {
        await AppendAsync(entry, startIndex, token).ConfigureAwait(false);
        await FlushIfDurableAsync(token).ConfigureAwait(false);
    }

    /// <summary>
    /// The term of the entry at <paramref name="index"/> as this log knows it: an index the newest snapshot covers
    /// answers with the snapshot's term (DotNext keeps no per-entry terms below it), index 0 with 0.
    /// </summary>
    public ValueTask<long> TermAtAsync(long index, CancellationToken token) =>
        index <= 0 ? ValueTask.FromResult(0L) : ReadAsync(TermOfLastEntry.Instance, index, index, token);

    private async ValueTask FlushIfDurableAsync(CancellationToken token)
    {
        if (!durableFollowerAppends) return;
        var started = Stopwatch.GetTimestamp();
        await FlushAsync(token).ConfigureAwait(false);
        NodeTelemetry.FollowerFlushDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        Interlocked.Increment(ref _followerFlushes);
    }

    /// <summary>The term and length of the last entry of a range (metadata only).</summary>
    private sealed class HeldEntry : ILogEntryConsumer<IRaftLogEntry, (long Term, long? Length)>
    {
        public static readonly HeldEntry Instance = new();

        public bool LogEntryMetadataOnly => true;

        public ValueTask<(long Term, long? Length)> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry> => ValueTask.FromResult(entries.Count > 0 ? (entries[^1].Term, entries[^1].Length) : (-1L, (long?)null));
    }

    /// <summary>Reads the term of the last entry of a range (a snapshot counts with its own term).</summary>
    private sealed class TermOfLastEntry : ILogEntryConsumer<IRaftLogEntry, long>
    {
        public static readonly TermOfLastEntry Instance = new();

        public bool LogEntryMetadataOnly => true;

        public ValueTask<long> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry> => ValueTask.FromResult(entries.Count > 0 ? entries[^1].Term : -1L);
    }
}
