using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RaftMall.Node.Consensus.Raft;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// A peer that let a Raft request go unanswered is silent: requests to it fail at once, without reaching the network,
/// until it answers a liveness probe. The deadlines are real (100 ms); the probe's interval runs on a fake clock.
/// </summary>
public sealed class SilentPeersTests : IDisposable
{
    private const string Frozen = "10.0.0.9:7101";
    private const string Live = "10.0.0.8:7101";
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly FakeTimeProvider _time = new();
    private readonly List<Uri> _probed = [];
    private volatile bool _frozenAnswersProbes;
    private readonly SilentPeers _silent;

    public SilentPeersTests() =>
        _silent = new SilentPeers(Probe, Interval, _time, NullLogger<SilentPeers>.Instance);

    public void Dispose() => _silent.Dispose();

    private Task<bool> Probe(Uri health, CancellationToken token)
    {
        lock (_probed) _probed.Add(health);
        return _frozenAnswersProbes ? Task.FromResult(true) : Task.FromException<bool>(new HttpRequestException("no answer"));
    }

    /// <summary>The network: <see cref="Frozen"/> never answers (SIGSTOP, black hole); <see cref="Live"/> answers with a status.</summary>
    private sealed class Network(HttpStatusCode liveStatus) : HttpMessageHandler
    {
        public int Sent;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Sent);
            if (request.RequestUri!.Authority == Frozen) await Task.Delay(Timeout.Infinite, cancellationToken);
            return new HttpResponseMessage(liveStatus) { RequestMessage = request };
        }
    }

    private HttpMessageInvoker Client(Network network) =>
        new(new RaftDeadlines(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100), TimeSpan.Zero, silent: _silent) { InnerHandler = network });

    private static HttpRequestMessage Raft(string peer, string type = "RequestVote")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://{peer}/cluster-consensus/raft");
        request.Headers.Add(RaftDeadlines.MessageTypeHeader, type);
        return request;
    }

    private async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"not within 10 s: {what}");
            _time.Advance(Interval);
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task After_one_missed_deadline_requests_to_the_peer_fail_at_once_until_it_answers_a_probe()
    {
        var network = new Network(HttpStatusCode.OK);
        using var client = Client(network);

        var first = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen, "PreVote"), CancellationToken.None));
        Assert.IsType<TimeoutException>(first.InnerException);
        Assert.Equal([Frozen], _silent.Now);

        // Not sent at all: the vote fails before its deadline, as "member unavailable" (DotNext's reading of it).
        // (An AppendEntries without an entry count has no deadline of ours: only the caller's 2 s would end it.)
        var clock = Stopwatch.StartNew();
        using var caller = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var second = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen, "AppendEntries"), caller.Token));
        Assert.True(clock.ElapsedMilliseconds < 90, $"the request to a silent peer took {clock.ElapsedMilliseconds} ms");
        Assert.IsType<TimeoutException>(second.InnerException);
        Assert.Contains("not sent", second.Message, StringComparison.Ordinal);
        Assert.Equal(1, network.Sent);

        // Other peers are not affected.
        using var live = await client.SendAsync(Raft(Live), CancellationToken.None);
        Assert.Equal(2, network.Sent);

        // Nor are requests that are no Raft message (the identity exchange of a member being added uses this client).
        using var identityCaller = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"http://{Frozen}/cluster-identity"), identityCaller.Token));
        Assert.Equal(3, network.Sent);

        // The probe goes to the peer's liveness endpoint; silence lasts while it fails, and ends when it answers.
        await WaitUntilAsync(() => { lock (_probed) return _probed.Count >= 2; }, "two probes");
        lock (_probed) Assert.All(_probed, p => Assert.Equal($"http://{Frozen}/health/live", p.ToString()));
        Assert.Equal([Frozen], _silent.Now);
        _frozenAnswersProbes = true;
        await WaitUntilAsync(() => _silent.Now.Count == 0, "the silence ends after a probe answered");

        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen), CancellationToken.None));
        Assert.Equal(4, network.Sent); // sent again (and silent again: it still does not answer Raft)
    }

    [Fact]
    public async Task An_error_status_is_an_answer_and_the_callers_own_cancellation_is_not_a_miss()
    {
        var network = new Network(HttpStatusCode.ServiceUnavailable);
        using var client = Client(network);
        using var answer = await client.SendAsync(Raft(Live), CancellationToken.None);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);

        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Raft(Frozen), caller.Token));
        Assert.Empty(_silent.Now);
    }

    [Fact]
    public async Task A_silent_peer_nobody_sends_to_is_forgotten_and_its_next_request_goes_out()
    {
        var network = new Network(HttpStatusCode.OK);
        using var client = Client(network);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen), CancellationToken.None));
        Assert.Equal([Frozen], _silent.Now);

        await WaitUntilAsync(() => _silent.Now.Count == 0, "forgotten after SilentPeers.IdleAfter without a request");
        int probes;
        lock (_probed) probes = _probed.Count;
        Assert.InRange(probes, 1, (int)(SilentPeers.IdleAfter / Interval) + 1);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen), CancellationToken.None));
        Assert.Equal(2, network.Sent);
    }

    [Fact]
    public async Task A_peer_being_caught_up_to_join_is_never_refused()
    {
        var network = new Network(HttpStatusCode.OK);
        using var client = Client(network);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen), CancellationToken.None));
        var joining = new Uri($"http://{Frozen}/");
        using (_silent.Exempt(joining))
        {
            Assert.False(_silent.Refuses(joining, out _));
            await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen), CancellationToken.None));
            await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Raft(Frozen), CancellationToken.None));
            Assert.Equal(3, network.Sent); // every warm-up request went out, each to its own deadline
        }
        Assert.True(_silent.Refuses(joining, out _)); // still silent after the scope: it never answered
    }
}
