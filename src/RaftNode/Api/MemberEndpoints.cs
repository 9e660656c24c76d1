using RaftMall.Contract;
using RaftMall.Node.Consensus;
using RaftMall.Node.Security;
using RaftMall.StateMachine;

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

        members.MapGet("/", (IConsensus consensus, ReplicatedState state) => Results.Ok(View(consensus, state, changed: null)))
            .WithSummary("The members of the active configuration as this node knows it, with their roles")
            .Produces<MemberList>();

        members.MapPost("/", async (HttpRequest request, IConsensus consensus, ReplicatedState state, IHttpClientFactory clients, IdentityExchange exchange, Proposer proposer, TimeProvider time) =>
        {
            var (body, problem) = await JsonBody.ReadAsync<MemberRequest>(request, request.HttpContext.RequestAborted);
            if (problem is not null) return problem;
            if (ParseAddress(body!.Address) is not { } address) return Problems.Validation("address must be a node's base address, e.g. http://127.0.0.1:7104");
            if (!consensus.IsLeader) return Problems.NotLeader();
            if (consensus.Members.Any(m => NodeSettings.SameAuthority(m.Uri, address))) return Results.Ok(View(consensus, state, changed: false));
            if (await ProbeAsync(clients, address, request.HttpContext.RequestAborted) is { } unreachable)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, ProblemCodes.MemberUnreachable,
                    $"the node at {address.Authority} does not answer ({unreachable}); start it first (it waits to be added), then add it");
            }
            using var timeout = new CancellationTokenSource(ChangeTimeout, time);
            using var change = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted, timeout.Token);
            if (await GiveIdentityAsync(exchange, proposer, address, change.Token) is { } refused) return refused;
            var outcome = await consensus.AddMemberAsync(address, change.Token);
            if (outcome is MembershipOutcome.Done { Changed: true }) await WaitUntilShownAsync(consensus, address, member: true, time, request.HttpContext.RequestAborted);
            return Answer(consensus, state, outcome, StatusCodes.Status201Created);
        })
        .WithSummary("Add a running node (that waits to be added) as a member: the leader catches it up first; one change at a time")
        .Produces<MemberList>().Produces<MemberList>(StatusCodes.Status201Created).JsonBodyOf<MemberRequest>()
        .Refuses(409, ProblemCodes.MembershipChangeInProgress)
        .Refuses(422, ProblemCodes.MemberUnreachable, ProblemCodes.MemberNotCaughtUp, ProblemCodes.MemberIdentityRefused)
        .Refuses(503, ProblemCodes.NoLeader, ProblemCodes.NotLeader, ProblemCodes.OutcomeUnknown);

        members.MapDelete("/{member}", async (string member, HttpContext context, IConsensus consensus, ReplicatedState state, NodeSettings settings, TimeProvider time) =>
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
            return Answer(consensus, state, outcome, StatusCodes.Status200OK);
        })
        .WithSummary("Remove a member (by id, or host:port); removing the leader makes it resign first (503 leader_resigned: retry)")
        .Produces<MemberList>()
        .Refuses(404, ProblemCodes.UnknownMember)
        .Refuses(409, ProblemCodes.MembershipChangeInProgress, ProblemCodes.LastMember)
        .Refuses(503, ProblemCodes.NoLeader, ProblemCodes.NotLeader, ProblemCodes.OutcomeUnknown, ProblemCodes.LeaderResigned);
        return app;
    }

    /// <summary>The members with their roles as this node knows them, and the member ids the directory binds to their addresses.</summary>
    public static ClusterMember[] Members(IReadOnlyList<ClusterNode> members, ClusterNode? leader, IReadOnlyDictionary<string, string> memberIds) =>
        [.. members.Select(n => new ClusterMember(n.Id, n.Address, leader is null ? null : n.Id == leader.Id ? "leader" : "follower")
        {
            MemberId = memberIds.GetValueOrDefault(NodeSettings.AddressKey(n.Uri)),
        })];

    private static MemberList View(IConsensus consensus, ReplicatedState state, bool? changed)
    {
        var leader = consensus.Leader;
        return new MemberList(leader?.Id, Members(consensus.Members, leader, state.MemberIds), changed);
    }

    /// <summary>
    /// Node identity of a new member: the node takes this cluster's id and a new member id, and the directory binds that
    /// id to its address before the node is added, so that every request of the catch-up is already meant for it. A
    /// data directory of another cluster refuses; an address bound before (a replaced member) gets the new id. Null
    /// when the node may be added; otherwise the answer.
    /// </summary>
    private static async Task<IResult?> GiveIdentityAsync(IdentityExchange exchange, Proposer proposer, Uri address, CancellationToken token)
    {
        switch (await exchange.OfferAsync(address, token))
        {
            case IdentityExchange.Answer.Refused refused:
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, ProblemCodes.MemberIdentityRefused,
                    $"the node at {address.Authority} did not take the cluster's identity: {refused.Reason}; it was not added");
            case IdentityExchange.Answer.Known { Identity: var given }:
                return await proposer.ProposeAsync(new BindMember(NodeSettings.AddressKey(address), given.MemberId), token) switch
                {
                    ProposeOutcome.Applied { Result: MemberBound } => null,
                    ProposeOutcome.Applied { Result: Rejected rejected } => Problems.Of(StatusCodes.Status422UnprocessableEntity, ProblemCodes.MemberIdentityRefused,
                        $"the member directory refused to bind {address.Authority}: {rejected.Detail}; it was not added"),
                    ProposeOutcome.NotLeader => Problems.NotLeader(),
                    var other => Problems.Of(StatusCodes.Status503ServiceUnavailable, ProblemCodes.OutcomeUnknown,
                        $"binding the new member's id did not complete ({other}); nothing was added: retry", retryAfterSeconds: 1),
                };
            default:
                throw new InvalidOperationException("unexpected identity answer");
        }
    }

    private static IResult Answer(IConsensus consensus, ReplicatedState state, MembershipOutcome outcome, int changedStatus) => outcome switch
    {
        MembershipOutcome.Done { Changed: true } => Results.Json(View(consensus, state, changed: true), statusCode: changedStatus),
        MembershipOutcome.Done => Results.Ok(View(consensus, state, changed: false)),
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
