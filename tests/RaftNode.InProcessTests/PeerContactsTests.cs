using Microsoft.Extensions.Time.Testing;
using RaftMall.Node.Consensus.Raft;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// Which node counts as cut off (<see cref="PeerContacts.CutOff"/>): one the quorum check resigned and that no majority
/// has answered since. A follower's silence says nothing (it sends nothing while it follows), so it never counts.
/// </summary>
public sealed class PeerContactsTests
{
    private readonly FakeTimeProvider _time = new();
    private static readonly Uri N2 = new("http://127.0.0.1:7102"), N3 = new("http://127.0.0.1:7103");

    [Fact]
    public void A_node_that_never_lost_its_majority_as_leader_is_not_cut_off_however_quiet_it_is()
    {
        var contacts = new PeerContacts(_time);
        contacts.Answered(N2);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(contacts.CutOff(members: 3));
    }

    [Fact]
    public void A_resigned_leader_is_cut_off_until_a_majority_answers_it_or_a_leader_is_known()
    {
        var contacts = new PeerContacts(_time);
        contacts.Answered(N2);
        _time.Advance(TimeSpan.FromMilliseconds(300));
        contacts.LostMajority();
        Assert.True(contacts.CutOff(members: 3)); // n2's answer came before the loss
        _time.Advance(TimeSpan.FromMilliseconds(50));
        contacts.Answered(N3);
        Assert.False(contacts.CutOff(members: 3)); // itself and n3: two of three
        Assert.True(contacts.CutOff(members: 5)); // two of five is no majority

        contacts.LostMajority();
        Assert.True(contacts.CutOff(members: 3));
        contacts.LeaderKnown();
        Assert.False(contacts.CutOff(members: 3));
    }
}
