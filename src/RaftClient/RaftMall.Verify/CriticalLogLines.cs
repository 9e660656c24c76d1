namespace RaftMall.Verify;

/// <summary>
/// What RaftMall's own code reported as critical during a run: an entry it could not decode, a broken invariant, a
/// snapshot shadow that diverged. Every node's log is read, also those of data directories a membership fault set
/// aside, since a replica that went wrong and was then replaced leaves its only trace there. DotNext's critical lines
/// are left out: it logs one when a node stopped by the nemesis was in the middle of a pre-vote.
/// </summary>
public static class CriticalLogLines
{
    /// <summary>The console formatter's level prefix for <c>LogLevel.Critical</c>, followed by RaftMall's categories.</summary>
    public const string Marker = " crit: RaftMall.";

    /// <summary>Up to <paramref name="limit"/> critical lines, each prefixed with the directory of the log it came from.</summary>
    public static IReadOnlyList<string> Find(string dataDirectory, int limit = 20)
    {
        var found = new List<string>();
        if (!Directory.Exists(dataDirectory)) return found;
        foreach (var log in Directory.EnumerateFiles(dataDirectory, "node.log", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var node = Path.GetFileName(Path.GetDirectoryName(log));
            foreach (var line in File.ReadLines(log))
            {
                if (!line.Contains(Marker, StringComparison.Ordinal)) continue;
                if (found.Count == limit) return found;
                found.Add($"{node} logged a critical error: {line}");
            }
        }
        return found;
    }
}
