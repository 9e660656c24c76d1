using System.Globalization;
using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Lets a follower whose snapshot is ahead of the leader's view of it catch up (Raft: every index at or below the
/// follower's commit index matches the leader's log by definition).
/// <para>
/// DotNext 6.12 keeps no per-entry terms below a snapshot: asked for the term of any index the snapshot covers, its log
/// answers with the snapshot's term. A follower's AppendEntries check compares the leader's prevLogTerm with that, so a
/// prevLogIndex inside the follower's snapshot is rejected whenever the entry there was written in an older term than
/// the snapshot's last entry. The leader then steps back one index per round, deeper into the snapshot, until it falls
/// below its own snapshot and sends an InstallSnapshot; and the follower rejects an InstallSnapshot at or below its
/// commit index too. The follower stalls until the leader's compaction passes its commit index: under load soon, on an
/// idle cluster never (docs/dotnext.md, "Follower catch-up stall").
/// </para>
/// This middleware sits in front of DotNext's protocol handler, after peer authentication (whose signature covers the
/// headers it reads), and applies the rule where DotNext does not:
/// <list type="bullet">
/// <item>An AppendEntries whose prevLogIndex is at or below this node's commit index gets the term this log holds for
/// that index as its prevLogTerm, so the check passes; DotNext then skips the committed entries it already has
/// (<c>skipCommitted</c>) and appends the rest.</item>
/// <item>An InstallSnapshot at or below this node's commit index, from a leader whose term is not behind this node's,
/// is answered "Replicated" without installing it (the state already holds everything it covers); the leader then
/// continues with AppendEntries right after the snapshot's index, which the first rule accepts.</item>
/// </list>
/// Every other message, and every index above the commit index, goes to DotNext unchanged.
/// </summary>
public sealed partial class CommittedPrefixMatch(RequestDelegate next, DurableWriteAheadLog log, ILogger<CommittedPrefixMatch> logger)
{
    // DotNext's wire format (DotNext.AspNetCore.Cluster 6.12: AppendEntriesMessage, InstallSnapshotMessage,
    // RaftHttpMessage), pinned by CatchUpTests.
    public const string AppendEntriesMessage = "AppendEntries";
    public const string InstallSnapshotMessage = "InstallSnapshot";
    public const string TermHeader = "X-Raft-Term";
    public const string PrecedingIndexHeader = "X-Raft-Preceding-Record-Index";
    public const string PrecedingTermHeader = "X-Raft-Preceding-Record-Term";
    public const string SnapshotIndexHeader = "X-Raft-Snapshot-Index";

    /// <summary>The answer body DotNext's leader parses as <c>HeartbeatResult.Replicated</c>.</summary>
    public const string ReplicatedAnswer = "Replicated";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (RaftHeaders.IsAppendEntries(request))
        {
            await MatchCommittedPrefixAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        else if (request.Path.StartsWithSegments(Security.PeerSignature.ProtocolPath)
            && string.Equals(request.Headers[RaftDeadlines.MessageTypeHeader], InstallSnapshotMessage, StringComparison.Ordinal)
            && await AnswerCoveredSnapshotAsync(context).ConfigureAwait(false))
        {
            return;
        }
        await next(context).ConfigureAwait(false);
    }

    private async ValueTask MatchCommittedPrefixAsync(HttpRequest request, CancellationToken token)
    {
        if (!TryRead(request, PrecedingIndexHeader, out var prevIndex) || !TryRead(request, PrecedingTermHeader, out var prevTerm)) return;
        var committed = log.LastCommittedEntryIndex;
        if (prevIndex <= 0 || prevIndex > committed) return;
        var localTerm = await log.TermAtAsync(prevIndex, token).ConfigureAwait(false);
        if (localTerm == prevTerm || localTerm < 0) return;
        request.Headers[PrecedingTermHeader] = localTerm.ToString(CultureInfo.InvariantCulture);
        LogPrefixMatched(prevIndex, prevTerm, localTerm, committed);
    }

    private async ValueTask<bool> AnswerCoveredSnapshotAsync(HttpContext context)
    {
        var request = context.Request;
        if (!TryRead(request, SnapshotIndexHeader, out var snapshotIndex) || !TryRead(request, TermHeader, out var senderTerm)) return false;
        var committed = log.LastCommittedEntryIndex;
        var localTerm = ((IPersistentState)log).Term;
        // A sender behind this node's term is rejected by DotNext with the higher term, which makes it step down.
        if (snapshotIndex > committed || senderTerm < localTerm) return false;

        await request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers[TermHeader] = localTerm.ToString(CultureInfo.InvariantCulture);
        await context.Response.WriteAsync(ReplicatedAnswer, context.RequestAborted).ConfigureAwait(false);
        LogSnapshotSkipped(snapshotIndex, committed);
        return true;
    }

    private static bool TryRead(HttpRequest request, string header, out long value) =>
        RaftHeaders.TryParseNumber(request.Headers[header], out value);

    [LoggerMessage(Level = LogLevel.Information, Message = "catch-up: AppendEntries after committed index {PrevIndex} carried term {LeaderTerm}, this log holds {LocalTerm} there (commit index {CommitIndex}): matched")]
    private partial void LogPrefixMatched(long prevIndex, long leaderTerm, long localTerm, long commitIndex);

    [LoggerMessage(Level = LogLevel.Information, Message = "catch-up: InstallSnapshot at {SnapshotIndex} is covered by commit index {CommitIndex}: answered Replicated without installing it")]
    private partial void LogSnapshotSkipped(long snapshotIndex, long commitIndex);
}
