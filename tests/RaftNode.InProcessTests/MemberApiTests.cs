using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RaftMall.Contract;
using RaftMall.Node.Api;
using RaftMall.Node.Security;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// The members API over HTTP in front of the fake consensus: its waits run on the node's clock (a fake one here), so
/// an answer that waits for the member list or for the next leader comes when that clock says so.
/// </summary>
public sealed class MemberApiTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "raftmall-memberapi-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Node _node;
    private ApiHost _host = null!;

    public MemberApiTests() => _node = new(cluster =>
    {
        cluster.DataDirectory = _data;
        cluster.PeerSecret = "a-peer-secret-for-the-members-api-0123456789";
        cluster.ApiKeys = [new() { Name = "admin", Role = ClientRole.Admin, Key = "an-admin-key-long-enough-0123456789" }];
    });

    public async Task InitializeAsync()
    {
        // The leader hands a joining node the cluster's identity before it adds it: the fake node takes what it is offered.
        var identity = new NodeIdentity(_node.Settings, NodeSecurity.From(_node.Settings.Cluster), NullLogger<NodeIdentity>.Instance);
        identity.Establish(bootstrap: true, migrating: false);
        var http = new FakeHttp
        {
            Handler = (_, body) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") }),
        };
        _host = await ApiHost.StartAsync(_node, _node.Time, app => app.MapMembers(), services => services
            .AddSingleton<IHttpClientFactory>(http).AddSingleton(identity).AddSingleton<IdentityExchange>());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _node.Consensus.Dispose();
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task An_added_member_is_answered_after_the_bounded_wait_for_its_id_on_the_nodes_clock()
    {
        // The fake consensus names a new member by its address, as DotNext does until the member's id arrives: the
        // answer looks for the id every ShowPoll, ShowPolls times, then answers with what it has.
        var answer = _host.Http.PostAsync("/api/cluster/members", new StringContent("""{"address":"http://127.0.0.1:7104"}""", Encoding.UTF8, "application/json"));
        await Node.WaitForAsync(() => _node.Consensus.Members.Any(m => m.Uri.Port == 7104), "the member was not added");
        await _node.RunUntilAsync(() => answer.IsCompleted, MemberEndpoints.ShowPoll, MemberEndpoints.ShowPoll * (MemberEndpoints.ShowPolls + 5), "the answer to the addition");

        using var response = await answer;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("127.0.0.1:7104", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_the_leader_makes_it_resign_and_answers_after_leaderWaitMs_on_the_nodes_clock()
    {
        var answer = _host.Http.DeleteAsync("/api/cluster/members/n1");
        await Node.WaitForAsync(() => _node.Consensus.Resignations == 1, "the leader did not resign");
        var leaderWait = TimeSpan.FromMilliseconds(_node.Settings.Cluster.LeaderWaitMs);
        await _node.RunUntilAsync(() => answer.IsCompleted, TimeSpan.FromMilliseconds(100), leaderWait + TimeSpan.FromSeconds(1), "the answer to the removal");

        await AssertLeaderResigned(await answer);
        Assert.Equal(3, _node.Consensus.Members.Count); // nothing removed
    }

    [Fact]
    public async Task Removing_the_leader_answers_as_soon_as_leadership_moves()
    {
        var answer = _host.Http.DeleteAsync("/api/cluster/members/n1");
        await Node.WaitForAsync(() => _node.Consensus.Resignations == 1, "the leader did not resign");
        _node.Consensus.LeaderIs(_node.Member("n2"));
        await Node.WaitForAsync(() => answer.IsCompleted, "no answer after the leader changed, with the node's clock standing still");
        await AssertLeaderResigned(await answer);
    }

    private static async Task AssertLeaderResigned(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(ProblemCodes.LeaderResigned, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        }
    }
}
