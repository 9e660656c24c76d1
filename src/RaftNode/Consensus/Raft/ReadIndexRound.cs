using DotNext.Net.Cluster.Consensus.Raft;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Makes a follower's linearizable read a ReadIndex read (Raft §6.4): the leader confirms with a quorum round in its
/// term before it names its commit index.
/// <para>
/// A follower's read barrier in DotNext 6.12 sends a <c>Synchronize</c> message to the leader, and the leader answers it
/// from its local commit index, without a round. A leader cut off with a minority (2 | 3 in a five-node cluster) keeps
/// believing it leads until one of its rounds fails; meanwhile the majority elects a new leader and commits newer
/// writes, and the follower on the old leader's side would serve the old values as linearizable. So this middleware
/// sits in front of DotNext's protocol handler (after peer authentication) and, on the leader, holds a
/// <c>Synchronize</c> until a replication round that started after the request arrived has been acknowledged by a
/// majority (DotNext resumes a caller of <c>ForceReplicationAsync</c> only after the next full round, and a round
/// without a majority makes the leader step down). Only then does DotNext answer with its commit index, which then
/// covers every write committed before the read began. If the round fails the answer is 503, and the follower's read
/// fails as "no quorum" instead of being served stale.
/// </para>
/// A node that is not the leader passes the request on: DotNext answers "no commit index" and the follower retries.
/// </summary>
public sealed partial class ReadIndexRound(RequestDelegate next, IRaftCluster cluster, ILogger<ReadIndexRound> logger)
{
    /// <summary>DotNext's name of the message a follower's read barrier sends (its wire format, pinned by a test).</summary>
    public const string SynchronizeMessage = "Synchronize";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsSynchronize(context.Request) || cluster.Leader is not { IsRemote: false })
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        try
        {
            await cluster.ForceReplicationAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NotLeaderException or InvalidOperationException)
        {
            LogRoundFailed(e);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        await next(context).ConfigureAwait(false);
    }

    public static bool IsSynchronize(HttpRequest request) =>
        request.Path.StartsWithSegments(Security.PeerSignature.ProtocolPath)
        && string.Equals(request.Headers[RaftDeadlines.MessageTypeHeader], SynchronizeMessage, StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "a follower's read found no quorum behind this leader: answered 503")]
    private partial void LogRoundFailed(Exception reason);
}
