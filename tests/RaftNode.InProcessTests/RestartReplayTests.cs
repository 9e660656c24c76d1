using System.Globalization;
using DotNext.Net.Cluster.Consensus.Raft;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// A node restarted over and over from its own snapshots and log ends with the state of a replica that applied every
/// committed command once: nothing skipped, nothing applied twice.
/// </summary>
public sealed class RestartReplayTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftmall-replay-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Restarts_from_snapshots_and_the_log_lose_and_repeat_nothing(int seed)
    {
        var random = new Random(seed);
        var reference = new MallStateMachine();
        long term = 1;
        for (var restart = 0; restart < 12; restart++)
        {
            await using var node = await LocalReplica.OpenAsync(_root, snapshotIntervalEntries: 10);
            Assert.Equal(reference.StateHash(), node.State.Read(s => s.StateHash()));
            if (random.Next(3) == 0)
            {
                term++;
                await node.AppendAsync(term, null); // a new leader's no-op
            }
            var entries = random.Next(5, 60);
            long last = 0;
            for (var i = 0; i < entries; i++)
            {
                var batch = Enumerable.Range(0, random.Next(1, 4))
                    .Select(_ => (MallCommand)new KvPut("k" + random.Next(40), random.Next().ToString(CultureInfo.InvariantCulture), null) { TimeMs = 1_000 }).ToArray();
                MallCommand command = batch.Length == 1 ? batch[0] : new CommandBatch(batch) { TimeMs = 1_000 };
                last = await node.AppendAsync(term, command);
                reference.Apply(command);
                if (random.Next(4) == 0) await node.CommitAsync(last);
            }
            await node.CommitAsync(last);
            Assert.Equal(reference.StateHash(), node.State.Read(s => s.StateHash()));
        }
    }
}
