using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using RaftMall.Node.Consensus.Raft;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// ShadowSnapshots: a snapshot is taken without the apply path waiting for it, and its bytes are exactly the state at
/// its index, whatever was applied while it was being written.
/// </summary>
public sealed class ShadowSnapshotTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Applying_goes_on_while_a_snapshot_is_written_and_the_snapshot_is_the_state_at_its_index_byte_for_byte()
    {
        var log = new Log();
        var persist = new GatedPersist();
        await using var shadow = new ShadowSnapshots(new MallStateMachine(), 0, persist.RunAsync, NullLogger.Instance);

        for (var i = 0; i < 50; i++) log.Apply(shadow, new KvPut($"k{i % 7}", $"v{i}", null));
        var expectedAt50 = log.Snapshot();
        Assert.True(shadow.TryBegin(new(log.Index, Term: 3)));
        await persist.Entered.WaitAsync(Patience);

        // The write is held at the disk; the node keeps applying, and a second snapshot waits its turn.
        for (var i = 0; i < 30; i++) log.Apply(shadow, new KvPut($"k{i % 5}", $"w{i}", null));
        Assert.False(shadow.TryBegin(new(log.Index, Term: 3)));
        Assert.Equal(30, shadow.Queued);

        persist.Release();
        await WaitUntilAsync(() => !shadow.Running);
        var (at, bytes) = Assert.Single(persist.Written);
        Assert.Equal(new ShadowSnapshots.Target(50, 3), at);
        Assert.Equal(expectedAt50, bytes);

        Assert.True(shadow.TryBegin(new(log.Index, Term: 4)));
        await WaitUntilAsync(() => persist.Written.Count == 2 && !shadow.Running);
        Assert.Equal(new ShadowSnapshots.Target(80, 4), persist.Written[1].At);
        Assert.Equal(log.Snapshot(), persist.Written[1].Bytes);
        Assert.Null(shadow.Broken);
    }

    [Fact]
    public async Task The_shadow_catches_up_in_the_background_so_the_queue_stays_bounded_between_snapshots()
    {
        var log = new Log();
        await using var shadow = new ShadowSnapshots(new MallStateMachine(), 0, new GatedPersist().RunAsync, NullLogger.Instance);

        var value = new string('v', 1000);
        var entries = ShadowSnapshots.CatchUpBytes / 1000 + 10; // a little over CatchUpBytes of ~1 KB entries
        for (var i = 0; i < entries; i++) log.Apply(shadow, new KvPut($"k{i % 100}", value, null));

        await WaitUntilAsync(() => !shadow.Running);
        Assert.InRange(shadow.ShadowIndex, ShadowSnapshots.CatchUpBytes / 1100, log.Index);
        Assert.True(shadow.Queued < 30, $"{shadow.Queued} entries still queued");
    }

    [Fact]
    public async Task A_stopped_snapshot_is_never_published_and_a_reset_starts_the_shadow_from_the_installed_state()
    {
        var log = new Log();
        var persist = new GatedPersist();
        await using var shadow = new ShadowSnapshots(new MallStateMachine(), 0, persist.RunAsync, NullLogger.Instance);
        for (var i = 0; i < 20; i++) log.Apply(shadow, new KvPut($"k{i}", "v", null));
        Assert.True(shadow.TryBegin(new(log.Index, 1)));
        await persist.Entered.WaitAsync(Patience);

        await shadow.StopAsync(); // what the node does before it installs a leader's snapshot
        Assert.Empty(persist.Written);

        // The leader's snapshot (here: the same state after 40 more puts) replaces both copies.
        for (var i = 0; i < 40; i++) log.Apply(shadow: null, new KvPut($"k{i}", "w", null));
        shadow.Reset(MallStateMachine.Restore(log.Snapshot()), log.Index);
        Assert.Equal(0, shadow.Queued);
        persist.Release();
        for (var i = 0; i < 5; i++) log.Apply(shadow, new KvPut("after", $"{i}", null));
        Assert.True(shadow.TryBegin(new(log.Index, 2)));
        await WaitUntilAsync(() => persist.Written.Count == 1 && !shadow.Running);
        Assert.Equal(log.Snapshot(), persist.Written[0].Bytes);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the shadow did not finish");
            await Task.Delay(5);
        }
    }

    /// <summary>The node's own state and its log, as the apply path sees them.</summary>
    private sealed class Log
    {
        private readonly MallStateMachine _state = new();
        private readonly ByteWriter _buffer = new();

        public long Index { get; private set; }

        public void Apply(ShadowSnapshots? shadow, MallCommand command)
        {
            Index++;
            _state.Apply(command);
            shadow?.Follow(Index, new ReadOnlySequence<byte>(new Proposal(command).Encode()));
        }

        public byte[] Snapshot()
        {
            _state.WriteSnapshot(_buffer);
            return _buffer.ToArray();
        }
    }

    /// <summary>The disk, held until released: records what it was given once released.</summary>
    private sealed class GatedPersist
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<(ShadowSnapshots.Target At, byte[] Bytes)> Written { get; } = [];

        public Task Entered => _entered.Task;

        public void Release() => _release.TrySetResult();

        public async Task RunAsync(ShadowSnapshots.Target at, ReadOnlyMemory<byte> bytes, ShadowSnapshots.Work work, CancellationToken token)
        {
            _entered.TrySetResult();
            await _release.Task.WaitAsync(token);
            lock (Written) Written.Add((at, bytes.ToArray()));
        }
    }
}
