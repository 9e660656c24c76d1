using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using RaftMall.Node.Consensus;
using RaftMall.Node.Security;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// Node identity without processes: the identity file (created at bootstrap, on the first start of an older data
/// directory, never on a joining node; kept across restarts; taken from a leader at join), the cluster id every
/// bootstrap node derives alike, and the rules a Raft request must pass before DotNext sees it.
/// </summary>
public sealed class NodeIdentityTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raftmall-identity-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static readonly int[] DefaultPorts = [7101, 7102, 7103];

    private ClusterFile Cluster(string secret = "a-peer-secret-of-the-first-cluster-0123456789", params int[] ports) => new()
    {
        DataDirectory = _root,
        PeerSecret = secret,
        Nodes = [.. (ports.Length == 0 ? DefaultPorts : ports).Select((port, i) => new ClusterNode { Id = $"n{i + 1}", Address = $"http://127.0.0.1:{port}" })],
    };

    private static NodeIdentity Identity(ClusterFile cluster, string node) =>
        new(new NodeSettings(cluster, node), Security(cluster), NullLogger<NodeIdentity>.Instance);

    private static NodeSecurity Security(ClusterFile cluster)
    {
        cluster.ApiKeys = [new() { Name = "admin", Role = RaftMall.Contract.ClientRole.Admin, Key = "an-admin-key-long-enough-0123456789" }];
        return NodeSecurity.From(cluster);
    }

    [Fact]
    public void Bootstrap_nodes_agree_on_the_cluster_id_draw_their_own_member_ids_and_keep_them_across_restarts()
    {
        var cluster = Cluster();
        var n1 = Identity(cluster, "n1");
        var n2 = Identity(cluster, "n2");
        Assert.Equal(NodeIdentity.Start.Created, n1.Establish(bootstrap: true, migrating: false));
        Assert.Equal(NodeIdentity.Start.Created, n2.Establish(bootstrap: true, migrating: false));
        Assert.Equal(n1.Current!.ClusterId, n2.Current!.ClusterId);
        Assert.NotEqual(n1.Current.MemberId, n2.Current.MemberId);

        var restarted = Identity(cluster, "n1");
        Assert.Equal(NodeIdentity.Start.Loaded, restarted.Establish(bootstrap: true, migrating: false));
        Assert.Equal(n1.Current, restarted.Current);

        // The same node on a wiped disk bootstraps again: the cluster id comes back, the member id does not.
        File.Delete(n1.FilePath);
        var wiped = Identity(cluster, "n1");
        wiped.Establish(bootstrap: true, migrating: false);
        Assert.Equal(n1.Current.ClusterId, wiped.Current!.ClusterId);
        Assert.NotEqual(n1.Current.MemberId, wiped.Current.MemberId);
    }

    [Fact]
    public void The_cluster_id_depends_on_the_bootstrap_addresses_and_the_peer_secret_not_on_their_order()
    {
        var id = NodeIdentity.DeriveClusterId(Cluster(), Security(Cluster()).PeerKey);
        Assert.Equal(id, NodeIdentity.DeriveClusterId(Cluster(ports: [7103, 7101, 7102]), Security(Cluster()).PeerKey));
        Assert.NotEqual(id, NodeIdentity.DeriveClusterId(Cluster(ports: [7101, 7102, 7104]), Security(Cluster()).PeerKey));
        var otherSecret = Cluster("another-peer-secret-of-another-cluster-0123");
        Assert.NotEqual(id, NodeIdentity.DeriveClusterId(otherSecret, Security(otherSecret).PeerKey));
        Assert.Null(Validation.CheckId(id, "cluster id"));
    }

    [Fact]
    public void A_joining_node_has_none_until_it_adopts_an_offer_and_an_older_data_directory_migrates()
    {
        var cluster = Cluster();
        var joining = Identity(cluster, "n3");
        Assert.Equal(NodeIdentity.Start.None, joining.Establish(bootstrap: false, migrating: false));
        Assert.Null(joining.Current);
        Assert.False(File.Exists(joining.FilePath));

        var offered = new IdentityRecord("c0ffee", "abc123");
        Assert.Equal(NodeIdentity.AdoptOutcome.Adopted, joining.Adopt(offered));
        Assert.Equal(offered, joining.Current);
        Assert.Equal(offered, NodeIdentity.Read(joining.FilePath));
        // Added again later (after a removal): a new member id of the same cluster; never another cluster's.
        Assert.Equal(NodeIdentity.AdoptOutcome.Adopted, joining.Adopt(offered with { MemberId = "def456" }));
        Assert.Equal(NodeIdentity.AdoptOutcome.OtherCluster, joining.Adopt(new IdentityRecord("beef", "x1")));
        Assert.Equal(NodeIdentity.AdoptOutcome.Invalid, joining.Adopt(new IdentityRecord("c0ffee", "has space")));
        Assert.Equal("def456", NodeIdentity.Read(joining.FilePath).MemberId);

        var older = Identity(cluster, "n2");
        Assert.Equal(NodeIdentity.Start.Migrated, older.Establish(bootstrap: false, migrating: true));
        Assert.Equal(NodeIdentity.DeriveClusterId(cluster, Security(cluster).PeerKey), older.Current!.ClusterId);
    }

    [Fact]
    public void A_damaged_identity_file_stops_the_node_with_the_file_named()
    {
        var cluster = Cluster();
        var node = Identity(cluster, "n1");
        Directory.CreateDirectory(Path.GetDirectoryName(node.FilePath)!);
        File.WriteAllText(node.FilePath, "clusterId=\nmemberId=abc\n");
        var error = Assert.Throws<ClusterFileException>(() => node.Establish(bootstrap: true, migrating: false));
        Assert.Contains(node.FilePath, error.Message, StringComparison.Ordinal);
    }

    private const string N2 = "http://127.0.0.1:7102";

    private static HeaderDictionary Request(string? cluster, string? member, string? address, string? to = null)
    {
        var headers = new HeaderDictionary { ["X-Raft-Message-Type"] = "RequestVote" };
        if (cluster is not null) headers[PeerSignature.ClusterIdHeader] = cluster;
        if (member is not null) headers[PeerSignature.MemberIdHeader] = member;
        if (address is not null) headers[PeerSignature.MemberAddressHeader] = address;
        if (to is not null) headers[PeerSignature.ToMemberIdHeader] = to;
        return headers;
    }

    [Fact]
    public void A_request_passes_only_from_this_cluster_from_the_bound_member_and_for_this_member()
    {
        var cluster = Cluster();
        var identity = Identity(cluster, "n1");
        var state = new ReplicatedState();
        var check = new PeerIdentityCheck(_ => Task.CompletedTask, identity, state, NullLogger<PeerIdentityCheck>.Instance);

        identity.Establish(bootstrap: false, migrating: false);
        Assert.Equal("no-identity", check.Check(Request("c", "m2", N2))!.Kind);

        identity.Establish(bootstrap: true, migrating: false);
        var mine = identity.Current!;
        // Before the leader bound anyone, any member id of this cluster passes.
        Assert.Null(check.Check(Request(mine.ClusterId, "m2", N2)));
        Assert.Equal("other-cluster", check.Check(Request("another", "m2", N2))!.Kind);
        Assert.Equal("other-cluster", check.Check(Request(null, "m2", N2))!.Kind);
        Assert.Equal("anonymous", check.Check(Request(mine.ClusterId, null, N2))!.Kind);

        state.Apply(1, new BindMember(N2, "m2"));
        state.Apply(2, new BindMember("http://127.0.0.1:7101", mine.MemberId));
        Assert.Null(check.Check(Request(mine.ClusterId, "m2", N2, to: mine.MemberId)));
        // n2's disk was wiped and it drew a new member id: refused, with the bound one named.
        var wiped = check.Check(Request(mine.ClusterId, "m2-new", N2, to: mine.MemberId))!;
        Assert.Equal("unknown-member", wiped.Kind);
        Assert.Contains("holds m2 there", wiped.Reason, StringComparison.Ordinal);
        // n2's data directory copied to another address: its member id is n2's, at an address bound to nobody.
        Assert.Equal("moved-member", check.Check(Request(mine.ClusterId, "m2", "http://127.0.0.1:7109", to: mine.MemberId))!.Kind);
        Assert.Null(check.Check(Request(mine.ClusterId, "m9", "http://127.0.0.1:7109", to: mine.MemberId)));
        // This node is not the member the sender means (this disk was wiped): it takes no part.
        Assert.Equal("not-that-member", check.Check(Request(mine.ClusterId, "m2", N2, to: "the-old-n1"))!.Kind);
    }

    [Fact]
    public void The_identity_headers_are_signed()
    {
        foreach (var header in PeerSignature.IdentityHeaders) Assert.True(PeerSignature.IsSigned(header), header);
        var key = "k"u8.ToArray();
        KeyValuePair<string, string>[] headers = [KeyValuePair.Create("raftmall-member-id", "m1")];
        var signature = PeerSignature.Compute(key, "POST", "127.0.0.1:7101", PeerSignature.ProtocolPath, "1", "n", headers);
        Assert.NotEqual(signature, PeerSignature.Compute(key, "POST", "127.0.0.1:7101", PeerSignature.ProtocolPath, "1", "n", [KeyValuePair.Create("raftmall-member-id", "m2")]));
    }
}
