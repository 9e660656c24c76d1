using System.Xml.Linq;

namespace RaftMall.Node.InProcessTests;

/// <summary>The project graph and the consensus seam of docs/architecture.md, checked over the source tree.</summary>
public sealed partial class ArchitectureTests
{
    private static readonly string Root = FindRoot();

    /// <summary>
    /// Every project of src/ and samples/ (by file name) -> the projects it may reference and compile against: the graph of
    /// docs/architecture.md. Build-only references (ReferenceOutputAssembly="false") build a program a project starts and
    /// are not limited; a new project must be added here (and to the document) before it builds a graph the test accepts.
    /// </summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["RaftMall.StateMachine"] = [],
        ["RaftMall.Contract"] = [],
        ["RaftMall.Configuration"] = ["RaftMall.Contract"],
        ["RaftMall.Harness"] = ["RaftMall.Contract", "RaftMall.Configuration"],
        ["RaftNode"] = ["RaftMall.StateMachine", "RaftMall.Contract", "RaftMall.Configuration", "RaftMall.Harness"],
        ["RaftMall.Client"] = ["RaftMall.Contract"],
        ["RaftMall.Verify"] = ["RaftMall.Client", "RaftMall.Configuration", "RaftMall.Harness"],
        ["RaftMall.Bench"] = ["RaftMall.Client", "RaftMall.Configuration", "RaftMall.Harness"],
        ["RaftMall.Cli"] = ["RaftMall.Client", "RaftMall.Configuration", "RaftMall.Verify", "RaftMall.Bench", "RaftMall.Harness"],
        ["LoyaltyPoints"] = ["RaftMall.Client"],
    };

    [Fact]
    public void Project_references_follow_the_allowed_graph()
    {
        var problems = new List<string>();
        foreach (var (_, project, references) in Projects())
        {
            foreach (var (reference, buildOnly) in references)
            {
                if (buildOnly) continue; // builds a process the project starts; nothing of it is compiled against
                if (Allowed.TryGetValue(project, out var allowed) && !allowed.Contains(reference)) problems.Add($"{project} -> {reference}");
                if (reference == "RaftMall.Cli") problems.Add($"{project} -> {reference} (nothing references the CLI)");
            }
        }
        Assert.True(problems.Count == 0, "references outside docs/architecture.md: " + string.Join(", ", problems));
        var sourceProjects = Projects().Where(p => p.Folder is "src" or "samples").Select(p => p.Project).ToList();
        Assert.Contains("RaftNode", sourceProjects); // the check saw the tree
        Assert.DoesNotContain(sourceProjects, p => !Allowed.ContainsKey(p)); // every project of src/ and samples/ has its place in the graph
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
            .Where(f => File.ReadLines(f).Any(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal) && NamesDotNext().IsMatch(l)))
            .Select(f => Path.GetRelativePath(Root, f))
            .ToList();
        Assert.True(offenders.Count == 0, "DotNext outside Consensus/Raft and Security: " + string.Join(", ", offenders));
    }

    private static IEnumerable<(string Folder, string Project, List<(string Reference, bool BuildOnly)> References)> Projects()
    {
        foreach (var dir in new[] { "src", "tests", "samples", "bench" })
        {
            foreach (var csproj in Directory.EnumerateFiles(Path.Combine(Root, dir), "*.csproj", SearchOption.AllDirectories))
            {
                var references = XDocument.Load(csproj).Descendants("ProjectReference")
                    .Select(r => (Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')),
                        string.Equals((string?)r.Attribute("ReferenceOutputAssembly"), "false", StringComparison.OrdinalIgnoreCase)))
                    .ToList();
                yield return (dir, Path.GetFileNameWithoutExtension(csproj), references);
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

    /// <summary>A DotNext namespace in code: `using DotNext...`, `DotNext.X`, `global::DotNext.X`, `<DotNext.X>`.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"(?<![\w.])DotNext\.|^\s*using\s+DotNext")]
    private static partial System.Text.RegularExpressions.Regex NamesDotNext();
}
