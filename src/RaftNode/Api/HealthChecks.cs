using Microsoft.Extensions.Diagnostics.HealthChecks;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.Api;

/// <summary>Ready = this node knows a leader and has applied everything it knows to be committed.</summary>
public sealed class ReadinessCheck(IConsensus consensus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = consensus.Status();
        if (status.Leader is null) return Task.FromResult(HealthCheckResult.Unhealthy("no leader is known (election in progress)"));
        return Task.FromResult(status.AppliedIndex >= status.CommitIndex
            ? HealthCheckResult.Healthy($"leader {status.Leader.Id}, applied {status.AppliedIndex}")
            : HealthCheckResult.Unhealthy($"applied {status.AppliedIndex} of {status.CommitIndex} committed entries"));
    }
}
