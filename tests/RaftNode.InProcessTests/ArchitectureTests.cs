using System.Xml.Linq;

namespace RaftMall.Node.InProcessTests;

/// <summary>The project graph and the consensus seam of docs/architecture.md, checked over the source tree.</summary>
public sealed class ArchitectureTests
{
    private static readonly string Root = FindRoot();

    /// <summary>Project (by file name) -> the projects it may reference and use; build-only references are listed apart.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["RaftMall.StateMachine"] = [],
        ["RaftMall.Contract"] = [],
        ["RaftMall.Configuration"] = ["RaftMall.Contract"],
        ["RaftMall.Harness"] = ["RaftMall.Contract", "RaftMall.Configuration"],
        ["RaftNode"] = ["RaftMall.StateMachine", "RaftMall.Contract", "RaftMall.Configuration", "RaftMall.Harness"],
        ["RaftMall.Client"] = ["RaftMall.Contract"],
    };

    [Fact]
    public void Project_references_follow_the_allowed_graph()
    {
        var problems = new List<string>();
        foreach (var (project, references) in Projects())
        {
            foreach (var (reference, buildOnly) in references)
            {
                if (buildOnly) continue; // builds a process the project starts; nothing of it is compiled against
                if (Allowed.TryGetValue(project, out var allowed) && !allowed.Contains(reference)) problems.Add($"{project} -> {reference}");
                if (reference == "RaftMall.Cli") problems.Add($"{project} -> {reference} (nothing references the CLI)");
            }
        }
        Assert.True(problems.Count == 0, "references outside docs/architecture.md: " + string.Join(", ", problems));
        Assert.Contains("RaftNode", Projects().Select(p => p.Project)); // the check saw the tree
    }

    [Fact]
    public void Only_the_consensus_implementation_and_peer_signing_use_DotNext_in_the_node()
    {
        var node = Path.Combine(Root, "src", "RaftNode");
        var offenders = Directory.EnumerateFiles(node, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => !Path.GetRelativePath(node, f).StartsWith(Path.Combine("Consensus", "Raft"), StringComparison.Ordinal)
                && !Path.GetRelativePath(node, f).StartsWith("Security", StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Any(l => l.StartsWith("using DotNext", StringComparison.Ordinal) || l.Contains(" DotNext.", StringComparison.Ordinal) && !l.TrimStart().StartsWith("//", StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(Root, f))
            .ToList();
        Assert.True(offenders.Count == 0, "DotNext outside Consensus/Raft and Security: " + string.Join(", ", offenders));
    }

    private static IEnumerable<(string Project, List<(string Reference, bool BuildOnly)> References)> Projects()
    {
        foreach (var dir in new[] { "src", "tests", "samples", "bench" })
        {
            foreach (var csproj in Directory.EnumerateFiles(Path.Combine(Root, dir), "*.csproj", SearchOption.AllDirectories))
            {
                var references = XDocument.Load(csproj).Descendants("ProjectReference")
                    .Select(r => (Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')),
                        string.Equals((string?)r.Attribute("ReferenceOutputAssembly"), "false", StringComparison.OrdinalIgnoreCase)))
                    .ToList();
                yield return (Path.GetFileNameWithoutExtension(csproj), references);
            }
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RaftMall.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("RaftMall.sln not found above " + AppContext.BaseDirectory);
    }
}
