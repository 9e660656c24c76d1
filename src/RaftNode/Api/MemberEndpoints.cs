using RaftMall.Contract;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.Api;

/// <summary>
/// <c>/api/cluster/members</c>: the active configuration, and adding or removing one member at a time on the leader
/// (a follower forwards the change like any write, <see cref="LeaderForwarding"/>). The API never starts a process:
/// the node to add must already run and wait to be added.
/// </summary>
public static class MemberEndpoints
{
    /// <summary>The longest a change may take on the leader (catching a new node up included) before it answers 503.</summary>
    public static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How often a change's answer looks for the change in the member list, at most <see cref="ShowPolls"/> times.</summary>
    public static readonly TimeSpan ShowPoll = TimeSpan.FromMilliseconds(50);

    public const int ShowPolls = 40;

    /// <summary>The client that asks a node to add whether it answers at all (its public liveness check).</summary>
    public const string ProbeClientName = "member-probe";

    public static IEndpointRouteBuilder MapMembers(this IEndpointRouteBuilder app)
    {
        var members = app.MapGroup("/api/cluster/members").WithTags("Cluster");

        members.MapGet("/", (IConsensus consensus) => Results.Ok(View(consensus, changed: null)))
            .WithSummary("The members of the active configuration as this node knows it, with their roles")
            .Produces<MemberList>();

        members.MapPost("/", async (HttpRequest request, IConsensus consensus, IHttpClientFactory clients, TimeProvider time) =>
        {
            var (body, problem) = await JsonBody.ReadAsync<MemberRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (ParseAddress(body!.Address) is not { } address) return Problems.Validation("address must be a node's base address, e.g. http://127.0.0.1:7104");
            if (!consensus.IsLeader) return Problems.NotLeader();
            if (consensus.Members.Any(m => NodeSettings.SameAuthority(m.Uri, address))) return Results.Ok(View(consensus, changed: false));
            if (await ProbeAsync(clients, address, request.HttpContext.RequestAborted) is { } unreachable)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, ProblemCodes.MemberUnreachable,
                    $"the node at {address.Authority} does not answer ({unreachable}); start it first (it waits to be added), then add it");
            }
            using var timeout = new CancellationTokenSource(ChangeTimeout, time);
            using var change = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted, timeout.Token);
            var outcome = await consensus.AddMemberAsync(address, change.Token);
            if (outcome is MembershipOutcome.Done { Changed: true }) await WaitUntilShownAsync(consensus, address, member: true, time, request.HttpContext.RequestAborted);
            return Answer(consensus, outcome, StatusCodes.Status201Created);
        })
        .WithSummary("Add a running node (that waits to be added) as a member: the leader catches it up first; one change at a time")
        .Produces<MemberList>().Produces<MemberList>(StatusCodes.Status201Created).JsonBodyOf<MemberRequest>()
        .Refuses(409, ProblemCodes.MembershipChangeInProgress)
        .Refuses(422, ProblemCodes.MemberUnreachable, ProblemCodes.MemberNotCaughtUp)
        .Refuses(503, ProblemCodes.NoLeader, ProblemCodes.NotLeader, ProblemCodes.OutcomeUnknown);

        members.MapDelete("/{member}", async (string member, HttpContext context, IConsensus consensus, NodeSettings settings, TimeProvider time) =>
        {
            var current = consensus.Members;
            if (Find(current, member) is not { } target) return Problems.Of(StatusCodes.Status404NotFound, ProblemCodes.UnknownMember, $"no member is {member}; members: {string.Join(", ", current.Select(m => m.Id))}");
            if (current.Count <= 1) return Problems.Of(StatusCodes.Status409Conflict, ProblemCodes.LastMember, $"{target.Id} is the only member");
            if (!consensus.IsLeader) return Problems.NotLeader();
            if (target.Id == settings.NodeId)
            {
                // The leader does not remove itself: it resigns, and the next leader (which the retry reaches) removes it.
                var changed = consensus.NextLeaderChange;
                await consensus.ResignAsync(context.RequestAborted);
                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(settings.Cluster.LeaderWaitMs), time, context.RequestAborted));
                return Problems.Of(StatusCodes.Status503ServiceUnavailable, ProblemCodes.LeaderResigned,
                    $"{target.Id} led the cluster and resigned before its removal; nothing was removed yet: retry, and the next leader removes it", retryAfterSeconds: 1);
            }
            using var timeout = new CancellationTokenSource(ChangeTimeout, time);
            using var change = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token);
            var outcome = await consensus.RemoveMemberAsync(target.Uri, change.Token);
            if (outcome is MembershipOutcome.Done { Changed: true }) await WaitUntilShownAsync(consensus, target.Uri, member: false, time, context.RequestAborted);
            return Answer(consensus, outcome, StatusCodes.Status200OK);
        })
        .WithSummary("Remove a member (by id, or host:port); removing the leader makes it resign first (503 leader_resigned: retry)")
        .Produces<MemberList>()
        .Refuses(404, ProblemCodes.UnknownMember)
        .Refuses(409, ProblemCodes.MembershipChangeInProgress, ProblemCodes.LastMember)
        .Refuses(503, ProblemCodes.NoLeader, ProblemCodes.NotLeader, ProblemCodes.OutcomeUnknown, ProblemCodes.LeaderResigned);
        return app;
    }

    /// <summary>The members with their roles as this node knows them.</summary>
    public static ClusterMember[] Members(IReadOnlyList<ClusterNode> members, ClusterNode? leader) =>
        [.. members.Select(n => new ClusterMember(n.Id, n.Address, leader is null ? null : n.Id == leader.Id ? "leader" : "follower"))];

    private static MemberList View(IConsensus consensus, bool? changed)
    {
        var leader = consensus.Leader;
        return new MemberList(leader?.Id, Members(consensus.Members, leader), changed);
    }

    private static IResult Answer(IConsensus consensus, MembershipOutcome outcome, int changedStatus) => outcome switch
    {
        MembershipOutcome.Done { Changed: true } => Results.Json(View(consensus, changed: true), statusCode: changedStatus),
        MembershipOutcome.Done => Results.Ok(View(consensus, changed: false)),
        MembershipOutcome.NotLeader => Problems.NotLeader(),
        MembershipOutcome.Busy => Problems.Of(StatusCodes.Status409Conflict, ProblemCodes.MembershipChangeInProgress,
            "another change of the members is in progress (one at a time); nothing changed: retry after it"),
        MembershipOutcome.CatchUpFailed failed => Problems.Of(StatusCodes.Status422UnprocessableEntity, ProblemCodes.MemberNotCaughtUp, failed.Reason + "; it was not added"),
        MembershipOutcome.Unknown unknown => Problems.Of(StatusCodes.Status503ServiceUnavailable, ProblemCodes.OutcomeUnknown,
            unknown.Reason + "; read the members, then retry", retryAfterSeconds: 1),
        _ => throw new InvalidOperationException($"unexpected outcome {outcome}"),
    };

    /// <summary>A node's base address (scheme, host, port), or null when <paramref name="text"/> is not one.</summary>
    public static Uri? ParseAddress(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? new Uri(uri.GetLeftPart(UriPartial.Authority))
            : null;

    /// <summary>The member named <paramref name="member"/>: its id, its host:port, or its address.</summary>
    public static ClusterNode? Find(IReadOnlyList<ClusterNode> members, string member) =>
        members.FirstOrDefault(m => m.Id == member)
        ?? members.FirstOrDefault(m => string.Equals(m.Uri.Authority, member, StringComparison.OrdinalIgnoreCase))
        ?? (ParseAddress(member) is { } address ? members.FirstOrDefault(m => NodeSettings.SameAuthority(m.Uri, address)) : null);

    /// <summary>Null when the node answers its liveness check; otherwise why not.</summary>
    private static async Task<string?> ProbeAsync(IHttpClientFactory clients, Uri address, CancellationToken token)
    {
        try
        {
            using var response = await clients.CreateClient(ProbeClientName).GetAsync(new Uri(address, "/health/live"), token);
            return response.IsSuccessStatusCode ? null : $"its liveness check answered {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !token.IsCancellationRequested)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// DotNext applies a committed configuration to its member list in the background, and a new member's id arrives
    /// with its metadata: give this node a moment (bounded) so the answer shows the change.
    /// </summary>
    private static async Task WaitUntilShownAsync(IConsensus consensus, Uri address, bool member, TimeProvider time, CancellationToken token)
    {
        for (var i = 0; i < ShowPolls; i++)
        {
            var shown = consensus.Members.FirstOrDefault(m => NodeSettings.SameAuthority(m.Uri, address));
            if (member ? shown is not null && shown.Id != address.Authority : shown is null) return;
            await Task.Delay(ShowPoll, time, token);
        }
    }
}
