using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine.Tests;

/// <summary>The member directory's identities: bound through the log, replaced per address, kept in snapshots, bounded.</summary>
public class MemberIdentityTests
{
    [Fact]
    public void A_binding_is_kept_replaced_by_a_later_one_and_survives_a_snapshot()
    {
        var state = new MallStateMachine();
        Assert.Equal(new MemberBound("http://127.0.0.1:7101", "aaaa"), state.Apply(new BindMember("http://127.0.0.1:7101", "aaaa")));
        state.Apply(new BindMember("https://n2.example:7101", "bbbb"));
        Assert.Equal("aaaa", state.MemberIdAt("http://127.0.0.1:7101"));
        Assert.Null(state.MemberIdAt("http://127.0.0.1:7102"));

        // A member replaced at its old address: the new id takes the address, the old one is gone.
        state.Apply(new BindMember("http://127.0.0.1:7101", "cccc"));
        Assert.Equal("cccc", state.MemberIdAt("http://127.0.0.1:7101"));

        var snapshot = state.Snapshot();
        var restored = MallStateMachine.Restore(snapshot);
        Assert.Equal(state.MemberIds(), restored.MemberIds());
        Assert.Equal(["http://127.0.0.1:7101", "https://n2.example:7101"], restored.MemberIds().Select(b => b.Key));
        Assert.Equal(snapshot, restored.Snapshot());
        Assert.Equal(state.StateHash(), restored.StateHash());
    }

    [Theory]
    [InlineData("", "aaaa", "must not be empty")]
    [InlineData("127.0.0.1:7101", "aaaa", "not a canonical base address")]
    [InlineData("http://127.0.0.1:7101/", "aaaa", "not a canonical base address")]
    [InlineData("http://127.0.0.1:7101/path", "aaaa", "not a canonical base address")]
    [InlineData("HTTP://127.0.0.1:7101", "aaaa", "not a canonical base address")]
    [InlineData("ftp://127.0.0.1:7101", "aaaa", "not a canonical base address")]
    [InlineData("http://127.0.0.1:7101", "", "member id must not be empty")]
    [InlineData("http://127.0.0.1:7101", "a b", "member id may contain only")]
    public void A_bad_binding_is_refused_and_changes_nothing(string address, string memberId, string reason)
    {
        var state = new MallStateMachine();
        state.Apply(new BindMember("http://127.0.0.1:7101", "aaaa"));
        var before = state.Snapshot();
        var refused = Assert.IsType<Rejected>(state.Apply(new BindMember(address, memberId)));
        Assert.Equal("validation", refused.CodeName);
        Assert.Contains(reason, refused.Detail, StringComparison.Ordinal);
        Assert.Equal(before, state.Snapshot());
    }

    [Fact]
    public void The_directory_holds_a_bounded_number_of_addresses_and_rebinding_one_is_always_allowed()
    {
        var state = new MallStateMachine();
        for (var i = 0; i < MallLimits.MaxMemberAddresses; i++) Assert.IsType<MemberBound>(state.Apply(new BindMember($"http://10.0.{i / 250}.{i % 250}:7101", $"m{i}")));
        var full = Assert.IsType<Rejected>(state.Apply(new BindMember("http://10.9.9.9:7101", "extra")));
        Assert.Contains($"{MallLimits.MaxMemberAddresses} addresses", full.Detail, StringComparison.Ordinal);
        Assert.IsType<MemberBound>(state.Apply(new BindMember("http://10.0.0.0:7101", "replacement")));
        Assert.Equal("replacement", state.MemberIdAt("http://10.0.0.0:7101"));
    }

    [Fact]
    public void A_binding_round_trips_through_the_codec()
    {
        var command = new BindMember("http://127.0.0.1:7104", "5f0c2a9e41d7b386") { TimeMs = 7 };
        Assert.Equal(command, CommandCodec.Decode(CommandCodec.Encode(command)));
    }
}
