using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using RaftMall.Contract;
using RaftMall.Node.Api;

namespace RaftMall.Node.InProcessTests;

/// <summary>LeaderForwarding: a write that reaches a follower goes to the leader; what cannot be known is said so.</summary>
public sealed class ForwardingTests
{
    private readonly Node _node = new(c => c.LeaderWaitMs = 3_000);
    private readonly FakeHttp _http = new();
    private int _servedHere;

    [Fact]
    public async Task A_write_on_a_follower_goes_to_the_leader_with_its_key_and_credentials_and_the_answer_comes_back_unchanged()
    {
        _node.Consensus.LeaderIs(_node.Member("n2"));
        _http.Handler = (_, _) =>
        {
            var answer = new HttpResponseMessage(HttpStatusCode.Created) { Content = new StringContent("""{"orderId":7}""", Encoding.UTF8, "application/json") };
            answer.Headers.Location = new Uri("/api/orders/7", UriKind.Relative);
            answer.Headers.Add(RaftMallHeaders.AppliedIndex, "42");
            return Task.FromResult(answer);
        };
        var context = Write("/api/orders?x=1", """{"userId":"u"}""");

        await Forwarding().InvokeAsync(context);

        var (sent, body) = Assert.Single(_http.Requests);
        Assert.Equal(new Uri("http://127.0.0.1:7102/api/orders?x=1"), sent.RequestUri);
        Assert.Equal("""{"userId":"u"}""", body);
        Assert.Equal("key-1", sent.Headers.GetValues(RaftMallHeaders.IdempotencyKey).Single());
        Assert.Equal("Bearer secret", sent.Headers.GetValues("Authorization").Single());
        Assert.Equal("n1", sent.Headers.GetValues(RaftMallHeaders.ForwardedBy).Single());
        Assert.Equal(201, context.Response.StatusCode);
        Assert.Equal("/api/orders/7", context.Response.Headers.Location.ToString());
        Assert.Equal("42", context.Response.Headers[RaftMallHeaders.AppliedIndex].ToString());
        Assert.Equal("""{"orderId":7}""", Node.ResponseBody(context));
        Assert.Equal(0, _servedHere);
    }

    [Fact]
    public async Task A_membership_change_on_a_follower_goes_to_a_leader_that_cluster_yml_does_not_list()
    {
        // n4 joined at run time: the node knows it from the active configuration, not from cluster.yml.
        var n4 = new ClusterNode { Id = "n4", Address = "http://127.0.0.1:7104" };
        _node.Consensus.MemberList.Add(n4);
        _node.Consensus.LeaderIs(n4);
        _http.Handler = (_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.Created));
        var context = Write("/api/cluster/members", """{"address":"http://127.0.0.1:7105"}""");

        await Forwarding().InvokeAsync(context);

        var (sent, _) = Assert.Single(_http.Requests);
        Assert.Equal(new Uri("http://127.0.0.1:7104/api/cluster/members"), sent.RequestUri);
        Assert.Equal(201, context.Response.StatusCode);
        Assert.Equal(0, _servedHere);
    }

    [Fact]
    public async Task A_write_on_the_leader_is_served_here_and_reads_are_never_forwarded()
    {
        await Forwarding().InvokeAsync(Write("/api/kv/k", """{"value":"v"}"""));
        _node.Consensus.LeaderIs(_node.Member("n2"));
        var read = Write("/api/kv/k", "");
        read.Request.Method = "GET";
        await Forwarding().InvokeAsync(read);
        Assert.Equal(2, _servedHere);
        Assert.Empty(_http.Requests);
    }

    [Fact]
    public async Task A_leader_that_refuses_the_connection_got_nothing_so_the_write_waits_for_the_next_leader()
    {
        _node.Consensus.LeaderIs(_node.Member("n2"));
        _http.Handler = (request, _) => request.RequestUri!.Port == 7102
            ? Task.FromException<HttpResponseMessage>(FakeHttp.Refused())
            : Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        var context = Write("/api/kv/k", """{"value":"v"}""");

        var forwarding = Forwarding().InvokeAsync(context);
        await _node.RunUntilAsync(() => _http.Requests.Count >= 1, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1), "the first attempt");
        _node.Consensus.LeaderIs(_node.Member("n3")); // elected
        await forwarding;

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(7103, _http.Requests[^1].Request.RequestUri!.Port);
        Assert.All(_http.Requests.SkipLast(1), r => Assert.Equal(7102, r.Request.RequestUri!.Port));
    }

    [Fact]
    public async Task A_leader_that_took_the_write_and_did_not_answer_makes_its_outcome_unknown_and_it_is_not_sent_elsewhere()
    {
        _node.Consensus.LeaderIs(_node.Member("n2"));
        _http.Handler = (_, _) => Task.FromException<HttpResponseMessage>(new HttpRequestException("The response ended prematurely."));
        var context = Write("/api/orders", """{"userId":"u"}""");

        await Forwarding().InvokeAsync(context);

        Assert.Single(_http.Requests);
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(ProblemCodes.OutcomeUnknown, Code(context));
    }

    [Fact]
    public async Task A_connection_that_breaks_while_it_is_set_up_makes_the_outcome_unknown_not_a_500()
    {
        _node.Consensus.LeaderIs(_node.Member("n2"));
        _http.Handler = (_, _) => Task.FromException<HttpResponseMessage>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.NotConnected));
        var context = Write("/api/orders", """{"userId":"u"}""");

        await Forwarding().InvokeAsync(context);

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal(ProblemCodes.OutcomeUnknown, Code(context));
    }

    [Fact]
    public async Task A_leader_that_is_replaced_while_it_holds_a_forwarded_write_makes_its_outcome_unknown_at_once()
    {
        // A frozen or cut-off leader accepts the connection and never answers: the follower gives up when it learns
        // of the next election instead of holding the client until the client's own timeout.
        _node.Consensus.LeaderIs(_node.Member("n2"));
        _http.Handler = (_, _) => new TaskCompletionSource<HttpResponseMessage>().Task; // never answers
        var context = Write("/api/orders", """{"userId":"u"}""");

        var forwarding = Forwarding().InvokeAsync(context);
        await _node.RunUntilAsync(() => _http.Requests.Count >= 1, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1), "the forward");
        Assert.False(forwarding.IsCompleted);
        _node.Consensus.LeaderIs(null); // an election started
        await forwarding.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Single(_http.Requests); // not sent elsewhere: it may still commit on the old leader
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal(ProblemCodes.OutcomeUnknown, Code(context));
        Assert.Contains("the leader changed", Node.ResponseBody(context), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_leader_a_write_waits_the_leader_wait_and_then_answers_no_leader_with_nothing_applied()
    {
        _node.Consensus.LeaderIs(null);
        var context = Write("/api/orders", """{"userId":"u"}""");

        var forwarding = Forwarding().InvokeAsync(context);
        await _node.RunUntilAsync(() => forwarding.IsCompleted, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(4), "the no-leader answer");

        Assert.True(_node.Time.GetUtcNow() - Start >= TimeSpan.FromMilliseconds(3_000), "answered before the leader wait ended");
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal(ProblemCodes.NoLeader, Code(context));
        Assert.Empty(_http.Requests);
        Assert.Equal(0, _servedHere);
    }

    [Fact]
    public async Task A_node_cut_off_from_a_majority_answers_no_leader_at_once_instead_of_waiting()
    {
        _node.Consensus.LeaderIs(null);
        _node.Consensus.ReachesMajority = false;
        var context = Write("/api/orders", """{"userId":"u"}""");

        var forwarding = Forwarding().InvokeAsync(context);
        await _node.RunUntilAsync(() => forwarding.IsCompleted, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(4), "the no-leader answer");

        Assert.True(_node.Time.GetUtcNow() - Start < TimeSpan.FromMilliseconds(100), "waited for a leader it cannot learn of");
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal(ProblemCodes.NoLeader, Code(context));
        Assert.Contains("reaches no majority", Node.ResponseBody(context), StringComparison.Ordinal);
        Assert.Empty(_http.Requests);
        Assert.Equal(0, _servedHere);
    }

    private DateTimeOffset Start { get; } = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private LeaderForwarding Forwarding() => new(
        _ =>
        {
            _servedHere++;
            return Task.CompletedTask;
        },
        _node.Consensus, _node.Settings, _http, _node.Time, Node.Log<LeaderForwarding>());

    private static DefaultHttpContext Write(string pathAndQuery, string body)
    {
        var context = Node.HttpContext();
        var uri = new Uri("http://127.0.0.1:7101" + pathAndQuery);
        context.Request.Method = "POST";
        context.Request.Path = uri.AbsolutePath;
        context.Request.QueryString = new QueryString(uri.Query);
        context.Request.ContentType = "application/json";
        context.Request.Headers[RaftMallHeaders.IdempotencyKey] = "key-1";
        context.Request.Headers.Authorization = "Bearer secret";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        return context;
    }

    private static string? Code(HttpContext context) => JsonDocument.Parse(Node.ResponseBody(context)).RootElement.GetProperty("code").GetString();
}
