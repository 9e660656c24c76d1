using Microsoft.Extensions.Logging;

namespace RaftMall.Client;

/// <summary>What the client logs (source-generated: no allocation when the level is off).</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "RaftMall leader is now {Leader}")]
    public static partial void LeaderChanged(ILogger logger, string leader);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "RaftMall node {Node} did not answer ({Reason}); trying {Next} next")]
    public static partial void NodeUnreachable(ILogger logger, string node, string reason, string next);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "RaftMall node {Node} knows no leader ({Reason}); trying {Next} next")]
    public static partial void NodeLeaderless(ILogger logger, string node, string reason, string next);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "{Method} {Path} at {Node}: {Reason}; retrying (attempt {Attempt})")]
    public static partial void Retrying(ILogger logger, HttpMethod method, string path, string node, string reason, int attempt);
}
