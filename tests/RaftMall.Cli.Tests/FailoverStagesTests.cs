using RaftMall.Bench;

namespace RaftMall.Cli.Tests;

/// <summary>Reading a failover's stages from the members' logs, as `raftmall bench failover` does after each trial.</summary>
public sealed class FailoverStagesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("raftmall-stages-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_second_read_keeps_what_the_first_found_and_adds_the_commit_logged_after_it()
    {
        // The new leader logs its first commit as it applies it, which can come after the first write was answered, so
        // the bench reads again; the log reader returns each line once, and the second read must not lose the first's.
        var fault = new DateTime(2026, 12, 3, 16, 4, 25, 304, DateTimeKind.Utc);
        var (n1, n2) = (Path.Combine(_dir, "n1.log"), Path.Combine(_dir, "n2.log"));
        File.WriteAllLines(n1, ["16:04:25.100 info: before the fault: no leader (term 1), ignored", "16:04:25.604 info: no leader (term 1): election in progress",
            "16:04:25.650 info: leader is n1 in term 2; this node is leader"]);
        File.WriteAllLines(n2, ["16:04:25.580 info: no leader (term 1): election in progress", "16:04:25.700 info: this leader committed the first entry of term 2 (n2 is not the leader)"]);
        var log = new NodeLog();
        (string, string)[] logs = [("n1", n1), ("n2", n2)];

        var first = FailoverStages.None.ReadOn(log, logs, fault, "n1", term: 2);
        Assert.Equal(new FailoverStages(276, 346, null), first);

        File.AppendAllLines(n1, ["16:04:25.690 info: this leader committed the first entry of term 2 (index 7)"]);
        var second = first.ReadOn(log, logs, fault, "n1", term: 2);
        Assert.Equal(new FailoverStages(276, 346, 386), second);
    }
}
