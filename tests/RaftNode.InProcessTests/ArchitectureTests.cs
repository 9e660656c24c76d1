using System.Xml.Linq;

namespace RaftMall.Node.InProcessTests;

/// <summary>The project graph and the consensus seam of docs/architecture.md, checked over the source tree.</summary>
public sealed partial class ArchitectureTests
{
    private static readonly string Root = FindRoot();

    /// <summary>
    /// Every project of src/, samples/ and deploy/ (by file name) -> the projects it may reference and compile against: the
    /// rules of docs/architecture.md. Build-only references are checked against <see cref="BuildOnly"/>; a new project
    /// must be added here (and to the document's table and graph) before the test accepts the tree.
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
        ["StockConsumer"] = ["RaftMall.Client"],
        ["HealthCheck"] = [],
    };

    /// <summary>
    /// Every build-only reference (ReferenceOutputAssembly="false": it builds a program the project starts as a process,
    /// nothing of it is compiled against), of any project: the list of docs/architecture.md, no more and no fewer.
    /// </summary>
    private static readonly Dictionary<string, string[]> BuildOnly = new(StringComparer.Ordinal)
    {
        ["RaftMall.Cli"] = ["RaftNode", "LoyaltyPoints", "StockConsumer"],
        ["RaftMall.TestSupport"] = ["RaftNode", "LoyaltyPoints", "StockConsumer", "RaftMall.Cli"],
    };

    /// <summary>The projects whose references docs/architecture.md draws, besides every project of src/, samples/ and deploy/.</summary>
    private static readonly string[] DrawnTestProjects = ["RaftMall.TestSupport"];

    [Fact]
    public void Project_references_follow_the_allowed_graph()
    {
        var problems = new List<string>();
        foreach (var project in Projects())
        {
            foreach (var (reference, buildOnly) in project.References)
            {
                if (buildOnly) continue; // checked below
                if (Allowed.TryGetValue(project.Name, out var allowed) && !allowed.Contains(reference)) problems.Add($"{project.Name} -> {reference}");
                if (reference == "RaftMall.Cli") problems.Add($"{project.Name} -> {reference} (nothing references the CLI)");
            }
        }
        Assert.True(problems.Count == 0, "references outside docs/architecture.md: " + string.Join(", ", problems));
        var sourceProjects = Projects().Where(p => p.Folder is "src" or "samples" or "deploy").Select(p => p.Name).ToList();
        Assert.Contains("RaftNode", sourceProjects); // the check saw the tree
        Assert.Contains("HealthCheck", sourceProjects); // ...and deploy/
        Assert.DoesNotContain(sourceProjects, p => !Allowed.ContainsKey(p)); // every project of src/, samples/ and deploy/ has its place in the graph
    }

    [Fact]
    public void Build_only_references_are_the_listed_ones()
    {
        var actual = Projects().SelectMany(p => p.References.Where(r => r.BuildOnly).Select(r => $"{p.Name} -> {r.Reference}")).Order(StringComparer.Ordinal).ToList();
        var listed = BuildOnly.SelectMany(e => e.Value.Select(r => $"{e.Key} -> {r}")).Order(StringComparer.Ordinal).ToList();
        Assert.True(listed.SequenceEqual(actual),
            $"build-only references not in the list of docs/architecture.md: [{string.Join(", ", actual.Except(listed))}]; "
            + $"listed but not in the tree: [{string.Join(", ", listed.Except(actual))}]");
    }

    [Fact]
    public void The_graph_in_the_document_is_the_trees_graph()
    {
        // The lines of the project graph: "A ───▶ B, C   (comment)" (compiled against) and "A ┄┄┄▶ B, C" (build-only).
        var drawn = new List<string>();
        foreach (var line in File.ReadLines(Path.Combine(Root, "docs", "architecture.md")))
        {
            if (GraphLine().Match(line) is not { Success: true } match) continue;
            var kind = match.Groups["arrow"].Value[0] == '┄' ? "┄▶" : "─▶";
            var targets = match.Groups["targets"].Value.Split('(')[0].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            drawn.AddRange(targets.Select(t => $"{match.Groups["from"].Value} {kind} {t}"));
        }
        var actual = Projects()
            .Where(p => p.Folder is "src" or "samples" or "deploy" || DrawnTestProjects.Contains(p.Name))
            .SelectMany(p => p.References.Select(r => $"{p.Name} {(r.BuildOnly ? "┄▶" : "─▶")} {r.Reference}"))
            .ToList();
        Assert.NotEmpty(drawn); // the check found the graph
        Assert.True(drawn.Order(StringComparer.Ordinal).SequenceEqual(actual.Order(StringComparer.Ordinal)),
            $"docs/architecture.md draws what the tree does not have: [{string.Join(", ", drawn.Except(actual))}]; it misses: [{string.Join(", ", actual.Except(drawn))}]");
    }

    [Fact]
    public void The_state_machine_the_contract_and_the_client_keep_to_their_packages()
    {
        var projects = Projects().ToDictionary(p => p.Name);
        // The state machine: the snapshot checksum, and nothing else.
        Assert.Equal(["System.IO.Hashing"], projects["RaftMall.StateMachine"].Packages.Select(p => p.Name));
        // The contract: base class library only; analyzers (PrivateAssets="all") never reach its users.
        Assert.All(projects["RaftMall.Contract"].Packages, p => Assert.True(p.PrivateAll, $"RaftMall.Contract references the package {p.Name}"));
        // The client: IHttpClientFactory, options and logging, and analyzers.
        Assert.All(projects["RaftMall.Client"].Packages, p => Assert.True(p.PrivateAll || p.Name == "Microsoft.Extensions.Http", $"RaftMall.Client references the package {p.Name}"));
        foreach (var name in new[] { "RaftMall.StateMachine", "RaftMall.Contract" })
        {
            Assert.Equal("Microsoft.NET.Sdk", projects[name].Sdk); // not the Web SDK
            Assert.Empty(projects[name].Frameworks); // no ASP.NET Core
        }
    }

    [Fact]
    public void A_librarys_assembly_and_root_namespace_are_its_project_name()
    {
        var libraries = Projects().Where(p => p.IsLibrary).ToList();
        Assert.Contains(libraries, p => p.Name == "RaftMall.StateMachine"); // the check saw the libraries
        var problems = libraries
            .SelectMany(p => new[] { ("AssemblyName", p.AssemblyName), ("RootNamespace", p.RootNamespace) }
                .Where(n => n.Item2 is not null && n.Item2 != p.Name)
                .Select(n => $"{p.Name}: {n.Item1} {n.Item2}"))
            .ToList();
        Assert.True(problems.Count == 0, "library names that are not the project's: " + string.Join(", ", problems));
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

    private sealed record Project(
        string Folder, string Name, string Sdk, List<(string Reference, bool BuildOnly)> References, List<(string Name, bool PrivateAll)> Packages,
        List<string> Frameworks, string? AssemblyName, string? RootNamespace, bool IsLibrary);

    private static IEnumerable<Project> Projects()
    {
        foreach (var dir in new[] { "src", "tests", "samples", "bench", "deploy" })
        {
            foreach (var csproj in Directory.EnumerateFiles(Path.Combine(Root, dir), "*.csproj", SearchOption.AllDirectories))
            {
                var document = XDocument.Load(csproj);
                var references = document.Descendants("ProjectReference")
                    .Select(r => (Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')),
                        string.Equals((string?)r.Attribute("ReferenceOutputAssembly"), "false", StringComparison.OrdinalIgnoreCase)))
                    .ToList();
                var packages = document.Descendants("PackageReference")
                    .Select(r => ((string)r.Attribute("Include")!,
                        string.Equals((string?)r.Attribute("PrivateAssets") ?? (string?)r.Element("PrivateAssets"), "all", StringComparison.OrdinalIgnoreCase)))
                    .ToList();
                var frameworks = document.Descendants("FrameworkReference").Select(r => (string)r.Attribute("Include")!).ToList();
                string? Property(string name) => document.Descendants(name).Select(e => e.Value.Trim()).LastOrDefault();
                var sdk = (string?)document.Root!.Attribute("Sdk") ?? "";
                // A library: built as a dll for other projects (not a program, not a test project). The Web SDK makes programs.
                var isLibrary = sdk == "Microsoft.NET.Sdk" && Property("OutputType") is null or "Library"
                    && !string.Equals(Property("IsTestProject"), "true", StringComparison.OrdinalIgnoreCase);
                yield return new Project(dir, Path.GetFileNameWithoutExtension(csproj), sdk, references, packages, frameworks,
                    Property("AssemblyName"), Property("RootNamespace"), isLibrary);
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

    /// <summary>A line of the project graph: a project, an arrow (solid or dotted), its references.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<from>[\w.]+)\s+(?<arrow>[─┄]+)▶\s+(?<targets>.+)$")]
    private static partial System.Text.RegularExpressions.Regex GraphLine();
}
