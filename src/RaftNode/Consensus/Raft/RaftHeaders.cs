using System.Globalization;
using System.Net.Http.Headers;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>How RaftMall reads the numbers DotNext 6.12 puts in its Raft request headers (indexes, terms, counts).</summary>
public static class RaftHeaders
{
    /// <summary>A header's value as a non-negative decimal number, as DotNext writes them; false for anything else.</summary>
    public static bool TryParseNumber(string? text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>The first value of an outgoing request's or an answer's header, or null.</summary>
    public static string? Value(HttpHeaders headers, string name) => headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>Whether an incoming request is an AppendEntries to this node's Raft endpoint.</summary>
    public static bool IsAppendEntries(HttpRequest request) =>
        request.Path.StartsWithSegments(Security.PeerSignature.ProtocolPath)
        && string.Equals(request.Headers[RaftDeadlines.MessageTypeHeader], CommittedPrefixMatch.AppendEntriesMessage, StringComparison.Ordinal);
}
