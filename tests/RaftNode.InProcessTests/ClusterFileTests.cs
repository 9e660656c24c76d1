
namespace RaftMall.Node.InProcessTests;

public class ClusterFileTests
{
    private const string Nodes = """
        nodes:
          - id: n1
            address: http://127.0.0.1:7101
        """;

    [Fact]
    public void The_repository_cluster_file_parses_with_a_private_memory_log()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftMall.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var file = ClusterFile.Load(Path.Combine(dir.FullName, "cluster.yml"));
        Assert.Equal("private", file.LogMemory);
        Assert.Equal(3, file.Nodes.Count);
    }

    [Theory]
    [InlineData("private")]
    [InlineData("shared")]
    public void Both_log_memories_are_accepted(string memory) =>
        Assert.Equal(memory, ClusterFile.Parse($"logMemory: {memory}\n{Nodes}").LogMemory);

    [Fact]
    public void An_unknown_log_memory_is_refused_by_name()
    {
        var error = Assert.Throws<ClusterFileException>(() => ClusterFile.Parse($"logMemory: mapped\n{Nodes}"));
        Assert.Contains("logMemory must be private or shared, not 'mapped'", error.Message, StringComparison.Ordinal);
    }
}
