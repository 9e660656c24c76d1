using System.Globalization;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>How RaftMall reads the numbers DotNext 6.12 puts in its Raft request headers (indexes, terms, counts).</summary>
public static class RaftHeaders
{
    /// <summary>A header's value as a non-negative decimal number, as DotNext writes them; false for anything else.</summary>
    public static bool TryParseNumber(string? text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
