namespace RaftMall.Verify.Tests;

/// <summary>
/// What verify reads from the nodes' own records after a run: critical log lines, and apply traces that disagree at an
/// index (set-aside data directories included).
/// </summary>
public sealed class NodeRecordTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "raftmall-records-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }

    private void Write(string node, string file, params string[] lines)
    {
        Directory.CreateDirectory(Path.Combine(_data, node));
        File.WriteAllLines(Path.Combine(_data, node, file), lines);
    }

    [Fact]
    public void Replicas_that_applied_the_same_entries_agree_also_across_restores()
    {
        Write("n1", ApplyTraces.FileName, "1 1 00000000000000aa", "2 1 -", "3 2 00000000000000bb");
        Write("n2", ApplyTraces.FileName, "1 1 00000000000000aa", "restore 1 1", "2 1 -", "3 2 00000000000000bb", "3 2 00000000000000bb");
        Write("n3", ApplyTraces.FileName, "restore 2 1", "3 2 00000000000000bb", "4 2 00"); // a torn last line is read as it is

        Assert.Empty(ApplyTraces.Differences(_data));
    }

    [Fact]
    public void An_entry_one_replica_passed_over_while_the_others_applied_a_command_there_is_reported()
    {
        Write("n1", ApplyTraces.FileName, "1 ? passed", "2 1 00000000000000aa", "3 1 00000000000000bb");
        Write("n2", ApplyTraces.FileName, "1 ? passed", "2 1 00000000000000aa", "3 ? passed");

        var difference = Assert.Single(ApplyTraces.Differences(_data));
        Assert.Contains("log index 3: n1 term 1 entry 00000000000000bb; n2 passed over (no payload)", difference, StringComparison.Ordinal);
    }

    [Fact]
    public void An_index_where_replicas_applied_different_entries_is_reported_with_who_applied_what()
    {
        Write("n1", ApplyTraces.FileName, "1 1 00000000000000aa", "2 1 00000000000000bb", "3 1 00000000000000cc");
        Write("n2", ApplyTraces.FileName, "1 1 00000000000000aa", "2 1 00000000000000bb", "3 1 00000000000000cc");
        Write("n3.replaced-1", ApplyTraces.FileName, "1 1 00000000000000aa", "2 1 00000000000000dd", "3 1 00000000000000cc");

        var difference = Assert.Single(ApplyTraces.Differences(_data));
        Assert.Contains("log index 2", difference, StringComparison.Ordinal);
        Assert.Contains("n1,n2 term 1 entry 00000000000000bb", difference, StringComparison.Ordinal);
        Assert.Contains("n3.replaced-1 term 1 entry 00000000000000dd", difference, StringComparison.Ordinal);
    }

    [Fact]
    public void Critical_lines_are_found_in_every_node_log_and_nothing_else_is()
    {
        Write("n1", "node.log", "04:15:18.535 info: RaftMall.Node[1] node n1: started", "04:15:19.000 warn: X[2] a warning with crit in it",
            "08:18:54.296 crit: DotNext.Net.Cluster.Consensus.Raft.Http.RaftHttpCluster[74031] Transition to candidate state has failed"); // stopped mid pre-vote
        Write("n3.replaced-4", "node.log", "04:16:20.000 crit: RaftMall.Node.Consensus.Raft.MallStateHost[3] log entries 5..5 never reached the state machine");

        var line = Assert.Single(CriticalLogLines.Find(_data));
        Assert.StartsWith("n3.replaced-4 logged a critical error: ", line, StringComparison.Ordinal);
        Assert.Contains("never reached the state machine", line, StringComparison.Ordinal);
    }
}
