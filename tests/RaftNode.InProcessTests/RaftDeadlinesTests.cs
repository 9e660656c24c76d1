using System.Diagnostics;
using RaftMall.Node.Consensus.Raft;

namespace RaftMall.Node.InProcessTests;

/// <summary>Votes and appends get their own deadlines on the Raft client; other message types keep DotNext's.</summary>
public class RaftDeadlinesTests
{
    /// <summary>A peer that never answers (black-holed, or frozen by SIGSTOP): every request waits until cancelled.</summary>
    private sealed class SilentPeer : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new UnreachableException();
        }
    }

    private static HttpMessageInvoker Client(int voteMs, int appendMs, int heartbeatMs = 0) =>
        new(new RaftDeadlines(TimeSpan.FromMilliseconds(voteMs), TimeSpan.FromMilliseconds(heartbeatMs), TimeSpan.FromMilliseconds(appendMs)) { InnerHandler = new SilentPeer() });

    private static HttpRequestMessage Raft(string type, int? entries = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "http://10.0.0.9:7101/cluster-consensus/raft");
        request.Headers.Add(RaftDeadlines.MessageTypeHeader, type);
        if (entries is { } count) request.Headers.Add(RaftDeadlines.EntriesCountHeader, count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }

    [Fact]
    public async Task A_heartbeat_to_a_silent_peer_fails_at_the_heartbeat_deadline_and_an_append_with_entries_does_not()
    {
        using var client = Client(voteMs: 100, appendMs: 0, heartbeatMs: 150);
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft("AppendEntries", entries: 0), CancellationToken.None));
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.InRange(clock.ElapsedMilliseconds, 140, 3_000);
        // Entries (and their flush on the follower) are never cut short by the heartbeat deadline.
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Raft("AppendEntries", entries: 3), caller.Token));
    }

    [Theory]
    [InlineData("PreVote")]
    [InlineData("RequestVote")]
    [InlineData("AppendEntries")]
    public async Task A_vote_or_append_to_a_silent_peer_fails_as_unavailable_at_its_deadline(string type)
    {
        using var client = Client(voteMs: 100, appendMs: 200);
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(type), CancellationToken.None));
        Assert.IsType<TimeoutException>(error.InnerException); // what DotNext takes for "member unavailable"
        Assert.Contains("10.0.0.9:7101", error.Message, StringComparison.Ordinal);
        Assert.InRange(clock.ElapsedMilliseconds, type == "AppendEntries" ? 190 : 90, 3_000);
    }

    [Theory]
    [InlineData("InstallSnapshot")]
    [InlineData("Synchronize")]
    [InlineData(null)]
    public async Task Other_messages_and_unset_deadlines_are_left_to_the_caller(string? type)
    {
        using var client = Client(voteMs: 50, appendMs: 0);
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var request = type is null ? new HttpRequestMessage(HttpMethod.Get, "http://10.0.0.9:7101/") : Raft(type);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(request, caller.Token));
        using var appendCaller = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Raft("AppendEntries"), appendCaller.Token)); // append deadline 0: off
    }

    [Fact]
    public async Task The_callers_own_cancellation_stays_a_cancellation()
    {
        using var client = Client(voteMs: 5_000, appendMs: 5_000);
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Raft("RequestVote"), caller.Token));
    }

    /// <summary>A peer that holds every request until told to answer.</summary>
    private sealed class HeldPeer : HttpMessageHandler
    {
        public TaskCompletionSource Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Answer.Task.WaitAsync(cancellationToken);
            return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { RequestMessage = request };
        }
    }

    [Fact]
    public async Task A_snapshot_transfer_counts_as_contact_while_it_lasts_and_a_heartbeat_in_flight_does_not()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var contacts = new PeerContacts(time);
        var peer = new HeldPeer();
        using var client = new HttpMessageInvoker(new RaftDeadlines(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, contacts) { InnerHandler = peer });
        var address = new Uri("http://10.0.0.9:7101");
        var window = TimeSpan.FromMilliseconds(250);

        var heartbeat = client.SendAsync(Raft("AppendEntries", entries: 0), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(contacts.AnsweredWithin(address, window)); // a request in flight is no answer

        // The leader's quorum check, a second later, while a tens-of-megabytes snapshot is sent and installed.
        var snapshot = client.SendAsync(Raft("InstallSnapshot"), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(contacts.AnsweredWithin(address, window));

        peer.Answer.SetResult();
        (await snapshot).Dispose();
        (await heartbeat).Dispose();
        Assert.True(contacts.AnsweredWithin(address, window)); // answered just now
        time.Advance(window + TimeSpan.FromMilliseconds(1));
        Assert.False(contacts.AnsweredWithin(address, window)); // the transfer is over: only answers count again
    }

    [Fact]
    public async Task A_snapshot_transfer_that_fails_stops_counting_as_contact()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var contacts = new PeerContacts(time);
        using var client = new HttpMessageInvoker(new RaftDeadlines(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, contacts) { InnerHandler = new SilentPeer() });
        using var timeout = new CancellationTokenSource();
        var snapshot = client.SendAsync(Raft("InstallSnapshot"), timeout.Token);
        Assert.True(contacts.AnsweredWithin(new Uri("http://10.0.0.9:7101"), TimeSpan.FromMilliseconds(250)));
        await timeout.CancelAsync(); // DotNext's request timeout
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => snapshot);
        Assert.False(contacts.AnsweredWithin(new Uri("http://10.0.0.9:7101"), TimeSpan.FromMilliseconds(250)));
    }
}
