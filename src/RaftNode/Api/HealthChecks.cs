using Microsoft.Extensions.Diagnostics.HealthChecks;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.Api;

/// <summary>Ready = this node knows a leader and has applied everything it knows to be committed.</summary>
public sealed class ReadinessCheck(ClusterView view, DurableWriteAheadLog log) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (view.Leader is null) return Task.FromResult(HealthCheckResult.Unhealthy("no leader is known (election in progress)"));
        var commit = view.CommitIndex;
        var applied = log.LastAppliedIndex;
        return Task.FromResult(applied >= commit
            ? HealthCheckResult.Healthy($"leader {view.Leader.Id}, applied {applied}")
            : HealthCheckResult.Unhealthy($"applied {applied} of {commit} committed entries"));
    }
}
