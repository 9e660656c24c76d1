using RaftMall.Node.Api;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.InProcessTests;

/// <summary>How the membership API names nodes, and what the fake consensus does with a change.</summary>
public sealed class MemberEndpointsTests
{
    private readonly Node _node = new();

    [Theory]
    [InlineData("http://127.0.0.1:7104", "http://127.0.0.1:7104/")]
    [InlineData("https://node4.example:8443/", "https://node4.example:8443/")]
    [InlineData("http://127.0.0.1:7104/api", null)]
    [InlineData("http://127.0.0.1:7104/?x=1", null)]
    [InlineData("ftp://127.0.0.1:7104", null)]
    [InlineData("127.0.0.1:7104", null)]
    [InlineData(null, null)]
    public void An_address_is_a_base_url(string? text, string? expected) =>
        Assert.Equal(expected, MemberEndpoints.ParseAddress(text)?.ToString());

    [Fact]
    public void A_member_is_found_by_id_host_and_port_or_address()
    {
        var members = _node.Consensus.Members;
        Assert.Equal("n2", MemberEndpoints.Find(members, "n2")?.Id);
        Assert.Equal("n2", MemberEndpoints.Find(members, "127.0.0.1:7102")?.Id);
        Assert.Equal("n3", MemberEndpoints.Find(members, "http://127.0.0.1:7103")?.Id);
        Assert.Null(MemberEndpoints.Find(members, "n9"));
    }

    [Fact]
    public async Task Only_the_leader_changes_members_and_a_change_is_seen_in_the_member_list()
    {
        var n4 = new Uri("http://127.0.0.1:7104");
        Assert.Equal(new MembershipOutcome.Done(true), await _node.Consensus.AddMemberAsync(n4, CancellationToken.None));
        Assert.Equal(new MembershipOutcome.Done(false), await _node.Consensus.AddMemberAsync(n4, CancellationToken.None));
        Assert.Contains(_node.Consensus.Members, m => m.Uri.Port == 7104);
        _node.Consensus.LeaderIs(_node.Member("n2"));
        Assert.IsType<MembershipOutcome.NotLeader>(await _node.Consensus.RemoveMemberAsync(n4, CancellationToken.None));
    }
}
