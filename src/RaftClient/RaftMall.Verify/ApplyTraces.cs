using System.Globalization;

namespace RaftMall.Verify;

/// <summary>
/// Compares the nodes' apply traces (<c>apply-trace.log</c>: <c>index term hash</c> per entry a replica gave its state
/// machine and <c>index ? passed</c> per entry its log passed over, written when a node runs with
/// <c>RaftMall:ApplyTrace=true</c>). Raft's safety property is that no two
/// replicas apply different entries at one index; every index where they did is reported, earliest first, with who
/// applied what. Data directories a membership fault set aside are read too.
/// </summary>
public static class ApplyTraces
{
    /// <summary>The trace file's name in a node's data directory.</summary>
    public const string FileName = "apply-trace.log";

    /// <summary>The environment variable that turns the trace on in a node (RaftMall:ApplyTrace).</summary>
    public const string Variable = "RaftMall__ApplyTrace";

    /// <summary>Up to <paramref name="limit"/> indexes where replicas applied different entries, earliest first.</summary>
    public static IReadOnlyList<string> Differences(string dataDirectory, int limit = 5)
    {
        if (!Directory.Exists(dataDirectory)) return [];
        // index -> applied entry ("term hash") -> the nodes that applied it there
        var applied = new SortedDictionary<long, Dictionary<string, SortedSet<string>>>();
        foreach (var file in Directory.EnumerateFiles(dataDirectory, FileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var node = Path.GetFileName(Path.GetDirectoryName(file))!;
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(' ');
                if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)) continue; // restore lines, a torn last line
                if (!applied.TryGetValue(index, out var entries)) applied[index] = entries = new(StringComparer.Ordinal);
                var entry = parts[2] switch
                {
                    "passed" => "passed over (no payload)",
                    "-" => $"term {parts[1]} no command",
                    _ => $"term {parts[1]} entry {parts[2]}",
                };
                if (!entries.TryGetValue(entry, out var nodes)) entries[entry] = nodes = new(StringComparer.Ordinal);
                nodes.Add(node);
            }
        }
        return [.. applied.Where(a => a.Value.Count > 1).Take(limit).Select(a =>
            $"replicas applied different entries at log index {a.Key}: " + string.Join("; ", a.Value.Select(e => $"{string.Join(",", e.Value)} {e.Key}")))];
    }
}
