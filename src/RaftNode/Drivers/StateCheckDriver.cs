using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// On the leader only: proposes a <see cref="CheckState"/> every <c>stateCheckIntervalMs</c>. Each replica hashes its
/// whole state as it applies that entry (<see cref="ReplicatedState.StateChecks"/>), so replicas can be compared at
/// equal indexes while they run, not only when they are quiet (<c>raftmall verify</c> does both).
/// </summary>
public sealed partial class StateCheckDriver(IConsensus consensus, Proposer proposer, NodeSettings settings, TimeProvider time, ILogger<StateCheckDriver> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Cluster.StateCheckIntervalMs <= 0) return;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.Cluster.StateCheckIntervalMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (consensus.Leadership is not { } leadership) continue;
            try
            {
                await proposer.ProposeAsync(new CheckState(), leadership).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (!leadership.IsCancellationRequested) LogCheckFailed(e.Message); // the next tick proposes again
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "state check not proposed: {Reason}")]
    private partial void LogCheckFailed(string reason);
}
