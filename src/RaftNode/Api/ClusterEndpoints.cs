using System.Globalization;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.Api;

public static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapClusterStatus(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/cluster", (IConsensus consensus, ReplicatedState state, NodeSettings settings, Security.NodeIdentity identity) =>
        {
            var status = consensus.Status();
            var leader = status.Leader;
            var members = MemberEndpoints.Members(consensus.Members, leader, state.MemberIds);
            var stats = state.Read(s => new Contract.NodeStats(
                s.OrderCount, s.ListStock().Count, s.KvCount, s.LastEventSequence, status.SnapshotsTaken, status.SnapshotsRestored,
                status.FollowerFlushes, status.DurableFollowerAppends));
            return Results.Ok(new Contract.ClusterStatus(
                settings.NodeId, status.Role, status.Term, leader?.Id, status.CommitIndex, status.AppliedIndex, status.SnapshotIndex, members, stats, Environment.ProcessId)
            {
                ClusterId = identity.Current?.ClusterId,
                MemberId = identity.Current?.MemberId,
            });
        })
        .WithTags("Cluster")
        .WithSummary("This node's view of the cluster: role, term, leader, commit and applied index, members")
        .Produces<Contract.ClusterStatus>();

        // Hashing the whole state is O(state): a separate call, for tests and verify to compare replicas.
        app.MapGet("/api/cluster/state-hash", async (HttpRequest request, Gateway gateway, ReplicatedState state) =>
        {
            if (await gateway.ReadBarrierAsync(request) is { } problem) return problem;
            var (hash, index) = state.Read(s => (s.StateHash(), state.LastAppliedIndex));
            return Results.Ok(new Contract.StateHash(hash.ToString("x16", CultureInfo.InvariantCulture), index));
        })
        .WithTags("Cluster")
        .WithSummary("A hash of this node's whole state and the index it reflects (linearizable unless ?consistency=local)")
        .Produces<Contract.StateHash>().ReadConsistency();

        app.MapGet("/api/cluster/state-checks", (ReplicatedState state) => Results.Ok(new Contract.StateChecks(
            [.. state.StateChecks.Select(c => new Contract.StateHash(c.Hash.ToString("x16", CultureInfo.InvariantCulture), c.Index))])))
        .WithTags("Cluster")
        .WithSummary("The hashes this node took of its whole state at the log's check points, to compare replicas index by index")
        .Produces<Contract.StateChecks>();
        return app;
    }
}
