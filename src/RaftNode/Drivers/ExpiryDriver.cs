using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// On the leader only: proposes <see cref="ExpireDue"/> with the leader's clock whenever an order, token or
/// transaction deadline has passed. Every node runs the loop; whoever leads acts, so the duty moves with leadership
/// and a new leader expires what its predecessor left (the deadlines are in the replicated state).
/// </summary>
public sealed partial class ExpiryDriver(IConsensus consensus, ReplicatedState state, Proposer proposer, NodeSettings settings, TimeProvider time, ILogger<ExpiryDriver> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.Cluster.ExpiryTickMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (consensus.Leadership is null) continue;
            var due = state.Read(s => s.NextDueAtMs());
            if (due is null || due > time.GetUtcNow().ToUnixTimeMilliseconds()) continue;
            try
            {
                var outcome = await proposer.ProposeAsync(new ExpireDue(), stoppingToken).ConfigureAwait(false);
                if (outcome is ProposeOutcome.Applied { Result: ExpireResult r } && (r.OrdersExpired > 0 || r.TransactionsAborted > 0))
                {
                    LogExpired(r.OrdersExpired, r.TransactionsAborted, r.TokensForgotten);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogTickFailed(e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "expiry tick: {Orders} orders expired, {Transactions} transactions aborted on timeout, {Tokens} tokens forgotten")]
    private partial void LogExpired(int orders, int transactions, int tokens);

    [LoggerMessage(Level = LogLevel.Warning, Message = "expiry tick failed: {Reason}")]
    private partial void LogTickFailed(string reason);
}
