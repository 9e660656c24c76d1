using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftMall.Node.Consensus.Raft;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// The log keeps a tail past the newest snapshot (<see cref="MallStateHost"/> publishes the snapshot before it): what
/// a leader reads for a follower just behind its newest snapshot is entries, not the snapshot, and a restart keeps it so.
/// </summary>
public sealed class SnapshotTailTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftmall-tail-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task The_first_snapshot_is_published_itself_and_each_later_one_publishes_the_one_before_it()
    {
        await using var node = await LocalReplica.OpenAsync(_root, snapshotIntervalEntries: 10);
        await WriteUntilSnapshotAsync(node, 10);
        Assert.Equal(10, node.Host.PublishedSnapshotIndex); // nothing before it to keep a tail from
        await WriteUntilSnapshotAsync(node, 20);
        Assert.Equal(10, node.Host.PublishedSnapshotIndex);
        await WriteUntilSnapshotAsync(node, 30);
        Assert.Equal(20, node.Host.PublishedSnapshotIndex);
        await AssertReadsAsync(node, from: 21, firstIndex: 21, firstIsSnapshot: false); // a follower at 20 gets entries
        await AssertReadsAsync(node, from: 15, firstIndex: 20, firstIsSnapshot: true); // one behind the tail gets the snapshot
    }

    [Fact]
    public async Task A_restart_restores_the_newest_snapshot_and_keeps_the_tail_when_its_mark_is_there()
    {
        await using (var node = await LocalReplica.OpenAsync(_root, snapshotIntervalEntries: 10))
        {
            await WriteUntilSnapshotAsync(node, 10);
            await WriteUntilSnapshotAsync(node, 20);
            await node.CommitAsync(await PutsAsync(node, 5));
        }
        await using (var node = await LocalReplica.OpenAsync(_root, snapshotIntervalEntries: 10))
        {
            Assert.Equal(25, node.State.Read(s => s.KvCount));
            Assert.Equal(20, node.Host.SnapshotIndex);
            Assert.Equal(10, node.Host.PublishedSnapshotIndex);
            await AssertReadsAsync(node, from: 11, firstIndex: 11, firstIsSnapshot: false);
        }

        // Without the mark (a snapshot installed from a leader, or written by a version without the tail) the log may
        // hold nothing before the newest snapshot: the newest is published.
        File.Delete(Path.Combine(_root, "n1", "snapshots", "tail.20.1"));
        await using (var node = await LocalReplica.OpenAsync(_root, snapshotIntervalEntries: 10))
        {
            Assert.Equal(25, node.State.Read(s => s.KvCount));
            Assert.Equal(20, node.Host.PublishedSnapshotIndex);
            await AssertReadsAsync(node, from: 11, firstIndex: 20, firstIsSnapshot: true);
        }
    }

    private static int _key;

    /// <summary>Appends and commits puts until the host's newest snapshot is at <paramref name="index"/> (one put per entry).</summary>
    private static async Task WriteUntilSnapshotAsync(LocalReplica node, long index)
    {
        await node.CommitAsync(await PutsAsync(node, (int)(index - node.Log.LastEntryIndex)));
        for (var i = 0; i < 400 && node.Host.SnapshotIndex < index; i++) await Task.Delay(25);
        Assert.Equal(index, node.Host.SnapshotIndex);
    }

    private static async Task<long> PutsAsync(LocalReplica node, int count)
    {
        long last = node.Log.LastEntryIndex;
        for (var i = 0; i < count; i++) last = await node.AppendAsync(term: 1, new KvPut("k" + Interlocked.Increment(ref _key), "v", null));
        return last;
    }

    private static async Task AssertReadsAsync(LocalReplica node, long from, long firstIndex, bool firstIsSnapshot)
    {
        using var entries = await node.Log.ReadAsync(from, node.Log.LastCommittedEntryIndex);
        Assert.Equal((firstIndex, firstIsSnapshot), (entries[0].Index, entries[0].IsSnapshot));
    }
}
