using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using RaftMall.Node.Consensus;
using RaftMall.Node.Consensus.Raft;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// One node's log and state machine as the node wires them (<see cref="DurableWriteAheadLog"/> over
/// <see cref="MallStateHost"/>, snapshots restored first), on a real data directory, without the cluster around them:
/// entries appended and committed by the test as a leader would. Disposing it is a clean stop; opening the same root
/// again is a restart.
/// </summary>
internal sealed record LocalReplica(DurableWriteAheadLog Log, MallStateHost Host, ReplicatedState State) : IAsyncDisposable
{
    public static async Task<LocalReplica> OpenAsync(string root, int snapshotIntervalEntries = 100_000, bool trace = false)
    {
        var cluster = new ClusterFile
        {
            DataDirectory = root,
            SnapshotIntervalEntries = snapshotIntervalEntries,
            Nodes = [new ClusterNode { Id = "n1", Address = "http://127.0.0.1:7101" }],
        };
        var settings = new NodeSettings(cluster, "n1");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [ApplyTrace.Key] = trace ? "true" : "false" }).Build();
        var state = new ReplicatedState();
        var host = new MallStateHost(state, settings, NullLogger<MallStateHost>.Instance, ApplyTrace.Open(configuration, settings));
        await host.RestoreAsync(CancellationToken.None);
        var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = settings.WalDirectory }, host, durableFollowerAppends: true);
        await log.InitializeAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await log.WaitForApplyAsync(log.LastCommittedEntryIndex, timeout.Token);
        return new LocalReplica(log, host, state);
    }

    /// <summary>Appends <paramref name="command"/> (null: an entry without payload, as a leader's no-op) in <paramref name="term"/>.</summary>
    public async Task<long> AppendAsync(long term, MallCommand? command) =>
        await Log.AppendAsync(new BinaryLogEntry { Term = term, Content = command is null ? ReadOnlyMemory<byte>.Empty : new Proposal(command).Encode() });

    public async Task CommitAsync(long index)
    {
        await Log.CommitAsync(index);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Log.WaitForApplyAsync(index, timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        await Host.DisposeAsync();
    }
}
