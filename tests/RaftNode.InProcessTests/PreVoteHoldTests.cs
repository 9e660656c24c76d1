using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RaftMall.Node.Consensus.Raft;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// A pre-vote from a candidate ahead of this log waits for this node's own election timer (200–250 ms here, this node's
/// drawn at 240), instead of being refused a few milliseconds before it runs out; everything else is answered at once.
/// </summary>
public sealed class PreVoteHoldTests
{
    private static readonly TimeSpan Lower = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Upper = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _time = new();
    private TimeSpan _electionTimeout = TimeSpan.FromMilliseconds(240);
    private bool _leader;
    private readonly PreVoteHold _hold;

    private const string Self = "http://127.0.0.1:7102";

    public PreVoteHoldTests() =>
        _hold = new PreVoteHold(_time, () => _electionTimeout, Lower, Upper, () => _leader,
            _ => ValueTask.FromResult((Index: 100L, Term: 3L)), NullLogger.Instance, Self, () => 4);

    private ValueTask<bool> Refuse(string candidate, long index, long term) => _hold.RefuseAsync(candidate, index, term, CancellationToken.None);

    [Fact]
    public async Task Of_two_level_candidates_standing_together_the_one_ordered_first_refuses_the_other()
    {
        // Both survivors' timers ran out together: each sent its pre-vote, each now gets the other's.
        _hold.NoteLeaderContact();
        _time.Advance(TimeSpan.FromMilliseconds(240));
        _hold.NoteCampaign();
        _time.Advance(TimeSpan.FromMilliseconds(3));
        Assert.True(await Refuse("http://127.0.0.1:7103", 100, 3)); // orders after this node: refused, so only this node stands
        Assert.False(await Refuse("http://127.0.0.1:7101", 100, 3)); // orders first: DotNext answers (a grant), it stands
        Assert.Equal(1, _hold.TieBreaks);
        Assert.Equal(4, _hold.CurrentTerm());
    }

    [Fact]
    public async Task A_candidate_that_refused_this_nodes_own_pre_vote_is_not_refused_in_turn()
    {
        // This node's timer ran out first; the other's was still running, so it refused this node's pre-vote. When
        // its own timer runs out a moment later, it must be allowed to stand: this node's campaign has failed.
        _hold.NoteCampaign();
        _time.Advance(TimeSpan.FromMilliseconds(2));
        _hold.NoteRefusedBy("http://127.0.0.1:7103");
        _time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.False(await Refuse("http://127.0.0.1:7103", 100, 3));
        // This node's next campaign: the old refusal no longer counts.
        _time.Advance(TimeSpan.FromMilliseconds(200));
        _hold.NoteCampaign();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await Refuse("http://127.0.0.1:7103", 100, 3));
    }

    [Fact]
    public async Task Campaign_notes_record_a_refusal_and_leave_the_answer_readable()
    {
        var hold = new PreVoteHold(_time, () => _electionTimeout, Lower, Upper, () => false,
            _ => ValueTask.FromResult((Index: 100L, Term: 3L)), NullLogger.Instance, Self);
        using var client = new HttpMessageInvoker(new PreVoteHold.CampaignNotes(hold) { InnerHandler = new Answering(PreVoteHold.RejectedByFollower) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:7103/cluster-consensus/raft");
        request.Headers.Add(RaftDeadlines.MessageTypeHeader, PreVoteHold.PreVoteMessage);
        using var answer = await client.SendAsync(request, CancellationToken.None);
        Assert.Equal(PreVoteHold.RejectedByFollower, await answer.Content.ReadAsStringAsync()); // DotNext still reads it
        Assert.False(await hold.RefuseAsync("http://127.0.0.1:7103", 100, 3, CancellationToken.None)); // it refused this campaign
        Assert.True(await hold.RefuseAsync("http://127.0.0.1:7104", 100, 3, CancellationToken.None)); // another level candidate is refused
    }

    private sealed class Answering(string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(body), RequestMessage = request });
    }

    [Fact]
    public async Task Only_a_level_candidate_within_the_campaign_window_is_refused()
    {
        Assert.False(await Refuse("http://127.0.0.1:7103", 100, 3)); // this node never stood: DotNext answers
        _hold.NoteCampaign();
        Assert.False(await Refuse("http://127.0.0.1:7103", 101, 3)); // ahead: only it can win, never refused here
        Assert.False(await Refuse("http://127.0.0.1:7103", 99, 3)); // behind: DotNext refuses it on the log check
        Assert.False(await Refuse("http://127.0.0.1:7103", 100, 2));
        _leader = true;
        Assert.False(await Refuse("http://127.0.0.1:7103", 100, 3)); // a leader's answer is DotNext's
        _leader = false;
        Assert.Equal(TimeSpan.FromMilliseconds(100), _hold.CampaignWindow); // half the lower timeout
        _time.Advance(_hold.CampaignWindow);
        Assert.True(await Refuse("http://127.0.0.1:7103", 100, 3));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await Refuse("http://127.0.0.1:7103", 100, 3)); // its campaign is over: the other may stand
        Assert.Equal(1, _hold.TieBreaks);
    }

    private ValueTask<TimeSpan> HoldFor(long index, long term) => _hold.HoldForAsync(index, term, CancellationToken.None);

    [Fact]
    public async Task A_candidate_ahead_is_held_until_this_nodes_timer_runs_out()
    {
        _hold.NoteLeaderContact();
        _time.Advance(TimeSpan.FromMilliseconds(210)); // the candidate's timer ran out at 210; this node's runs out at 240
        Assert.Equal(TimeSpan.FromMilliseconds(31), await HoldFor(101, 3));
        Assert.Equal(TimeSpan.FromMilliseconds(31), await HoldFor(50, 4)); // a newer last term is ahead whatever its index
    }

    [Fact]
    public async Task The_hold_ends_when_the_fake_clock_passes_it()
    {
        _hold.NoteLeaderContact();
        _time.Advance(TimeSpan.FromMilliseconds(230));
        var hold = await HoldFor(101, 3);
        var waiting = _hold.HoldAsync(hold, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _hold.Holds);
    }

    [Fact]
    public async Task A_candidate_level_with_or_behind_this_log_is_answered_at_once()
    {
        // Level: this node may win itself (the candidate grants it), and holding would make both stand in one term.
        _hold.NoteLeaderContact();
        _time.Advance(TimeSpan.FromMilliseconds(210));
        Assert.Equal(TimeSpan.Zero, await HoldFor(100, 3));
        Assert.Equal(TimeSpan.Zero, await HoldFor(99, 3));
        Assert.Equal(TimeSpan.Zero, await HoldFor(500, 2));
    }

    [Fact]
    public async Task While_this_nodes_timer_has_more_than_the_longest_hold_left_DotNext_answers_at_once()
    {
        // 200–250 ms: the longest hold is 50 + 20 ms; this node's timer (240 ms) has 70 ms left at 170 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(70), _hold.MaxHold);
        _hold.NoteLeaderContact();
        _time.Advance(TimeSpan.FromMilliseconds(169));
        Assert.Equal(TimeSpan.Zero, await HoldFor(101, 3));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(71), await HoldFor(101, 3));
        _hold.NoteLeaderContact(); // the leader's next heartbeat
        Assert.Equal(TimeSpan.Zero, await HoldFor(101, 3));
    }

    [Fact]
    public async Task Once_this_nodes_timer_ran_out_or_when_it_leads_or_never_heard_a_leader_nothing_is_held()
    {
        Assert.Equal(TimeSpan.Zero, await HoldFor(101, 3)); // no leader heard since the process started
        _hold.NoteLeaderContact();
        _time.Advance(TimeSpan.FromMilliseconds(210));
        _leader = true;
        Assert.Equal(TimeSpan.Zero, await HoldFor(101, 3));
        _leader = false;
        Assert.NotEqual(TimeSpan.Zero, await HoldFor(101, 3));
        _time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(TimeSpan.Zero, await HoldFor(101, 3));
    }

    [Fact]
    public async Task No_hold_is_longer_than_the_longest_hold()
    {
        // A timeout outside the configured range (DotNext redrew it; a test's odd settings) never makes a long hold.
        _electionTimeout = TimeSpan.FromMilliseconds(600);
        _hold.NoteLeaderContact();
        _time.Advance(TimeSpan.FromMilliseconds(529));
        Assert.Equal(TimeSpan.Zero, await HoldFor(101, 3));
    }

    [Fact]
    public void DotNexts_pre_vote_wire_format_is_the_one_the_hold_reads()
    {
        // Internal constants of DotNext.AspNetCore.Cluster 6.12; an upgrade that renames them fails here.
        var assembly = typeof(DotNext.Net.Cluster.Consensus.Raft.Http.IRaftHttpCluster).Assembly;
        string Constant(string type, string name) =>
            (string)assembly.GetType($"DotNext.Net.Cluster.Consensus.Raft.Http.{type}", throwOnError: true)!
                .GetField(name, BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;
        Assert.Equal(PreVoteHold.PreVoteMessage, Constant("PreVoteMessage", "MessageType"));
        Assert.Equal(PreVoteHold.RequestVoteMessage, Constant("RequestVoteMessage", "MessageType"));
        // The refusal's body is the result's name, parsed by the candidate with Enum.TryParse.
        Assert.Equal(PreVoteHold.RejectedByFollower, Enum.GetName(DotNext.Net.Cluster.Consensus.Raft.PreVoteResult.RejectedByFollower));
        Assert.Equal(PreVoteHold.Accepted, Enum.GetName(DotNext.Net.Cluster.Consensus.Raft.PreVoteResult.Accepted));
        // The vote messages' header names are constants of a type shared by both: found by value.
        var literals = assembly.GetTypes().SelectMany(t => t.GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral).Select(f => f.GetRawConstantValue()).OfType<string>().ToHashSet();
        Assert.Contains(PreVoteHold.RecordIndexHeader, literals);
        Assert.Contains(PreVoteHold.RecordTermHeader, literals);
        Assert.Equal(CommittedPrefixMatch.AppendEntriesMessage, Constant("AppendEntriesMessage", "MessageType"));
        Assert.Equal(CommittedPrefixMatch.InstallSnapshotMessage, Constant("InstallSnapshotMessage", "MessageType"));
    }
}
