using System.Diagnostics;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftMall.Node.Observability;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// DotNext's write-ahead log with one fix: a follower's append returns only after the appended entries are on disk.
/// </summary>
/// <remarks>
/// DotNext 6.12 flushes before the leader counts an entry toward commit, but a follower appends into memory (private
/// memory with cluster.yml's default logMemory: private, mapped log pages with shared) and acknowledges AppendEntries
/// at once; its checkpoint (the last index a restarted node trusts) catches up later. A follower killed in between has
/// acknowledged entries it forgets, and a majority of such followers can elect a leader without a committed entry
/// (docs/dotnext.md).
/// Raft calls the log through <see cref="IAuditTrail{TEntry}"/>; the base class implements those members
/// non-virtually, so re-implementing the interface here redirects exactly the follower's append paths
/// (AppendEntries and InstallSnapshot) to "append, then flush". The leader's own append is left alone.
/// </remarks>
public sealed class DurableWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine, bool durableFollowerAppends)
    : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>
{
    private long _followerFlushes;

    /// <summary>Flushes made for follower appends (0 when the fix is off).</summary>
    public long FollowerFlushes => Interlocked.Read(ref _followerFlushes);

    public bool DurableFollowerAppends => durableFollowerAppends;

    // Follower: AppendEntries -> AppendAsync(entries, prevLogIndex + 1, skipCommitted: true).
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        var appended = entries.RemainingCount; // heartbeats append nothing and need no flush
        await AppendAsync(entries, startIndex, skipCommitted, token).ConfigureAwait(false);
        if (appended > 0) await FlushIfDurableAsync(token).ConfigureAwait(false);
    }

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
