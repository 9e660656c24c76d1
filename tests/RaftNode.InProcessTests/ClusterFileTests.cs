
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

    [Theory]
    [InlineData("raftVoteTimeoutMs: -1", "raftVoteTimeoutMs must be 0 (off) or up to 5000")]
    [InlineData("raftAppendTimeoutMs: 40", "raftAppendTimeoutMs must be 0 (off), or above heartbeatIntervalMs")]
    [InlineData("raftAppendTimeoutMs: 6000", "raftAppendTimeoutMs must be 0 (off), or above heartbeatIntervalMs")]
    [InlineData("retainedEvents: 5", "retainedEvents must be between 10 and 10000000")]
    [InlineData("subscriptionRetryMaxMs: 50", "subscriptionRetryInitialMs (>= 1) <= subscriptionRetryMaxMs")]
    [InlineData("subscriptionCommitMs: 0", "subscriptionCommitMs (1..60000)")]
    public void Settings_out_of_range_are_refused(string line, string expected)
    {
        var error = Assert.Throws<ClusterFileException>(() => ClusterFile.Parse($"{line}\n{Nodes}"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Votes_have_a_deadline_and_appends_keep_the_library_timeout_unless_set()
    {
        var file = ClusterFile.Parse(Nodes);
        Assert.Equal((100, 150, 0), (file.RaftVoteTimeoutMs, file.RaftHeartbeatTimeoutMs, file.RaftAppendTimeoutMs));
        Assert.Equal(250, file.EffectiveLeaderStepDownMs);
        Assert.Null(file.ElectionTimeoutProblem());
    }

    [Theory]
    [InlineData(150, 300, 0)] // the old default: upper = 2 x lower, a survivor's second pre-vote can meet the other's election
    [InlineData(150, 290, 0)] // within the margin of a vote round
    [InlineData(150, 240, 80)] // the vote deadline widens the window
    [InlineData(200, 310, 100)]
    [InlineData(1000, 2000, 50)]
    public void Election_timeouts_that_can_split_a_vote_are_refused(int lower, int upper, int vote)
    {
        var error = Assert.Throws<ClusterFileException>(() =>
            ClusterFile.Parse($"electionTimeoutLowerMs: {lower}\nelectionTimeoutUpperMs: {upper}\nraftVoteTimeoutMs: {vote}\n{Nodes}"));
        Assert.Contains("split the vote", error.Message, StringComparison.Ordinal);
        Assert.Contains("electionTimeoutUpperMs:", error.Message, StringComparison.Ordinal); // a value that works
    }

    [Theory]
    [InlineData(150, 240, 50)]
    [InlineData(150, 270, 0)]
    [InlineData(200, 250, 100)]
    [InlineData(1000, 1800, 150)]
    public void Election_timeouts_that_cannot_split_a_vote_are_accepted(int lower, int upper, int vote)
    {
        var file = ClusterFile.Parse($"electionTimeoutLowerMs: {lower}\nelectionTimeoutUpperMs: {upper}\nraftVoteTimeoutMs: {vote}\n{Nodes}");
        Assert.Equal((lower, upper), (file.ElectionTimeoutLowerMs, file.ElectionTimeoutUpperMs));
    }

    [Fact]
    public void A_copy_has_every_setting_node_and_key_and_shares_none_of_them()
    {
        var original = ClusterFile.Parse($"maxWritesPerEntry: 7\n{Nodes}");
        original.ApiKeys = [new ApiKeyEntry { Name = "ops", Role = RaftMall.Contract.ClientRole.Admin, Key = new string('k', 32) }];
        var copy = original.Copy();

        Assert.Equivalent(original, copy, strict: true); // every public property, nodes and keys included
        Assert.NotSame(original.Nodes[0], copy.Nodes[0]);
        Assert.NotSame(original.ApiKeys[0], copy.ApiKeys[0]);
        copy.Nodes[0].Address = "http://127.0.0.1:7201";
        copy.ApiKeys[0].Key = "";
        Assert.Equal(("http://127.0.0.1:7101", 32), (original.Nodes[0].Address, original.ApiKeys[0].Key.Length));
    }
}
