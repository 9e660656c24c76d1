using RaftMall.Node.Consensus.Raft;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// The apply trace (<see cref="ApplyTrace"/>, on with RaftMall:ApplyTrace=true): one line per log entry the log gave
/// the state machine, one per entry it passed over (DotNext hands over only entries whose metadata says they carry a
/// payload), one per restore.
/// </summary>
public sealed class ApplyTraceTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftmall-trace-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Each_command_is_traced_with_its_hash_and_each_entry_without_payload_as_passed_over()
    {
        await using (var node = await LocalReplica.OpenAsync(_root, trace: true))
        {
            await node.AppendAsync(term: 1, null); // the leader's no-op
            await node.AppendAsync(term: 1, Put("a"));
            await node.AppendAsync(term: 1, null); // a membership change's empty entry (or a metadata page read back as zeros)
            await node.CommitAsync(await node.AppendAsync(term: 1, Put("b")));
            Assert.Equal(2, node.State.Read(s => s.KvCount));
        }

        var lines = await TraceAsync();
        Assert.Equal(["1 ? passed", "2 1", "3 ? passed", "4 1"], lines.Select(l => l.Length > 10 ? l[..3] : l));
        Assert.NotEqual(lines[1][4..], lines[3][4..]); // different commands, different hashes
    }

    [Fact]
    public async Task A_restart_traces_the_restored_snapshot_and_the_entries_applied_after_it()
    {
        await using (var node = await LocalReplica.OpenAsync(_root, snapshotIntervalEntries: 10, trace: true))
        {
            long last = 0;
            for (var i = 0; i < 12; i++) last = await node.AppendAsync(term: 1, Put("k" + i));
            await node.CommitAsync(last);
            for (var i = 0; i < 200 && node.Host.SnapshotIndex == 0; i++) await Task.Delay(25);
            Assert.Equal(10, node.Host.SnapshotIndex);
        }
        await using (var node = await LocalReplica.OpenAsync(_root, snapshotIntervalEntries: 10, trace: true))
        {
            Assert.Equal(12, node.State.Read(s => s.KvCount));
        }

        var lines = await TraceAsync();
        var restore = Array.FindIndex(lines, l => l.StartsWith("restore ", StringComparison.Ordinal));
        Assert.Equal("restore 10 1", lines[restore]);
        Assert.Equal(["11 1", "12 1"], lines[(restore + 1)..].Select(l => l[..4]));
        Assert.Equal(lines[10], lines[restore + 1]); // entry 11 applied again after the restart, with the same hash
    }

    private static KvPut Put(string key) => new(key, "v", null);

    private async Task<string[]> TraceAsync() => await File.ReadAllLinesAsync(Path.Combine(_root, "n1", ApplyTrace.FileName));
}
