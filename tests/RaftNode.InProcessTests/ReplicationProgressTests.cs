using System.Net;
using DotNext.IO.Log;
using RaftMall.Node.Consensus.Raft;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// The leader commits only what a majority confirmed in its term (<see cref="ReplicationProgress"/>): DotNext 6.12
/// commits the median of the answers a round was decided on, which with five members can be an index only two hold.
/// </summary>
public sealed class ReplicationProgressTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftmall-progress-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static readonly string[] Followers = ["n2:1", "n3:1", "n4:1", "n5:1"];

    [Fact]
    public void With_five_members_the_leader_may_commit_what_it_and_two_followers_hold()
    {
        var progress = new ReplicationProgress();
        // The round DotNext decides on the first three answers: leader 5300, one follower 5300, one 5295.
        progress.Confirm("n2:1", term: 11, 5300);
        progress.Confirm("n3:1", term: 11, 5295);

        Assert.Equal(5295, progress.SafeCommitIndex(term: 11, requested: 5300, voters: 5, Followers));

        progress.Confirm("n4:1", term: 11, 5300);
        Assert.Equal(5300, progress.SafeCommitIndex(term: 11, requested: 5300, voters: 5, Followers));
    }

    [Fact]
    public void With_three_members_one_follower_is_enough_and_one_member_needs_none()
    {
        var progress = new ReplicationProgress();
        progress.Confirm("n2:1", term: 3, 40);

        Assert.Equal(40, progress.SafeCommitIndex(term: 3, requested: 45, voters: 3, ["n2:1", "n3:1"]));
        Assert.Equal(45, progress.SafeCommitIndex(term: 3, requested: 45, voters: 1, []));
    }

    [Fact]
    public void Confirmations_of_an_older_term_count_for_nothing()
    {
        var progress = new ReplicationProgress();
        progress.Confirm("n2:1", term: 11, 5300);
        progress.Confirm("n3:1", term: 11, 5300);
        progress.Confirm("n2:1", term: 12, 5296); // a new term forgets the old confirmations
        progress.Confirm("n3:1", term: 11, 5310); // a late answer of the old term is ignored

        Assert.Equal(0, progress.SafeCommitIndex(term: 12, requested: 5300, voters: 5, Followers));
        Assert.Equal(0, progress.SafeCommitIndex(term: 11, requested: 5300, voters: 5, Followers));
        progress.Confirm("n4:1", term: 12, 5298);
        Assert.Equal(5296, progress.SafeCommitIndex(term: 12, requested: 5300, voters: 5, Followers));
    }

    [Theory]
    [InlineData("ReplicatedWithLeaderTerm", "11", true)]
    [InlineData("Replicated", "11", true)]
    [InlineData("Rejected", "11", false)]
    [InlineData("Rejected", "12", false)]
    public async Task The_handler_confirms_replicated_answers_of_the_requests_term_and_hands_the_answer_on_unchanged(string answer, string answeredTerm, bool confirmed)
    {
        var progress = new ReplicationProgress();
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer) };
        response.Headers.Add(CommittedPrefixMatch.TermHeader, answeredTerm);
        response.Headers.Add(ReplicationProgress.LastIndexHeader, "5300");
        using var client = new HttpMessageInvoker(new ReplicationProgress.Handler(progress) { InnerHandler = new Answer(response) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://10.0.0.2:7301/cluster-consensus/raft");
        request.Headers.Add(RaftDeadlines.MessageTypeHeader, CommittedPrefixMatch.AppendEntriesMessage);
        request.Headers.Add(CommittedPrefixMatch.TermHeader, "11");

        var answered = await client.SendAsync(request, CancellationToken.None);

        Assert.Equal(answer, await answered.Content.ReadAsStringAsync());
        Assert.Equal(confirmed ? 5300 : 0, progress.SafeCommitIndex(term: 11, requested: 6000, voters: 3, ["10.0.0.2:7301", "10.0.0.3:7301"]));
    }

    [Fact]
    public async Task The_log_holds_a_leader_commit_back_to_the_bound()
    {
        await using var node = await LocalReplica.OpenAsync(_root);
        for (var i = 0; i < 3; i++) await node.AppendAsync(term: 1, new KvPut("k" + i, "v", null));
        node.Log.CommitBound = requested => Math.Min(requested, 2);

        await ((IAuditTrail)node.Log).CommitAsync(3, CancellationToken.None);

        Assert.Equal(2, node.Log.LastCommittedEntryIndex);
        Assert.Equal(1, node.Log.CommitsHeldBack);
    }

    [Fact]
    public async Task A_followers_commit_inside_its_AppendEntries_is_not_bounded_and_a_task_that_outlives_the_request_is()
    {
        await using var node = await LocalReplica.OpenAsync(_root);
        for (var i = 0; i < 4; i++) await node.AppendAsync(term: 1, new KvPut("k" + i, "v", null));
        node.Log.CommitBound = _ => 1; // nothing confirmed beyond 1
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<long> outliving;

        using (DurableWriteAheadLog.FollowerAppend())
        {
            await ((IAuditTrail)node.Log).CommitAsync(2, CancellationToken.None); // the follower's commit
            outliving = Task.Run(async () =>
            {
                await gate.Task;
                return await ((IAuditTrail)node.Log).CommitAsync(4, CancellationToken.None); // a leader round started in the request
            });
        }
        Assert.Equal(2, node.Log.LastCommittedEntryIndex);
        gate.SetResult();
        await outliving;

        Assert.Equal(2, node.Log.LastCommittedEntryIndex);
        Assert.Equal(1, node.Log.CommitsHeldBack);
    }

    private sealed class Answer(HttpResponseMessage response) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(response);
    }
}
