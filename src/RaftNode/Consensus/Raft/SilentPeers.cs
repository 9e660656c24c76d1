using System.Collections.Concurrent;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// The peers that stopped answering Raft requests, and a liveness probe for each. A request to a silent peer fails at
/// once, as "member unavailable", instead of waiting for its deadline again; a probe (<c>GET /health/live</c>) every
/// <c>interval</c> ends the silence as soon as the peer's process answers.
/// <para>
/// Why: DotNext 6.12 decides a replication round only when the answers settle whether a majority replicated, and an
/// answer that rejects or does not reach the leader's term settles nothing. So a round that a live follower answered
/// that way waits for every other member, and while it waits no member gets a new request, not even a heartbeat. A new
/// leader's first round is always answered that way (docs/dotnext.md), and so are the rounds of a follower that walks
/// back to where its log matches. One frozen or cut-off member then held each such round for its whole deadline: the
/// heartbeat deadline, or DotNext's 5 s RPC timeout for a request that carries entries, long enough for the live
/// followers to time out and elect again. A candidate's pre-vote and vote also wait for every member. Failing at once
/// keeps a frozen member from costing more than its first missed deadline.
/// </para>
/// Only the transport counts: a request that got no answer in time or could not be sent. An HTTP error status is an
/// answer. A peer nobody sends to for <see cref="IdleAfter"/> is forgotten: its next request goes out as usual. A peer being
/// caught up to join (<see cref="Exempt"/>) is never refused: a fresh process often answers its first request late, and
/// the warm-up counts rounds, which failing at once would burn in microseconds.
/// </summary>
public sealed partial class SilentPeers(
    Func<Uri, CancellationToken, Task<bool>> probe, TimeSpan interval, TimeProvider time, ILogger<SilentPeers> logger) : IDisposable
{
    /// <summary>The named HttpClient of the liveness probes.</summary>
    public const string ProbeClientName = "raft-silent-peer-probe";

    /// <summary>How long a silent peer is probed after the last request that failed at once.</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(10);

    private sealed class Silence(long since)
    {
        public long Since { get; } = since;
        public long LastRefused { get; set; } = since;
    }

    private readonly ConcurrentDictionary<string, Silence> _silent = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _disposed = new();
    private readonly ConcurrentDictionary<string, int> _exempt = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A probe over HTTP: any answer within <paramref name="timeout"/> counts, whatever its status.</summary>
    public static Func<Uri, CancellationToken, Task<bool>> HttpProbe(IHttpClientFactory clients, TimeSpan timeout) => async (health, token) =>
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(timeout);
        using var response = await clients.CreateClient(ProbeClientName).GetAsync(health, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        return true;
    };

    /// <summary>Peers silent now (their authorities), for tests and the log.</summary>
    public IReadOnlyCollection<string> Now => [.. _silent.Keys];

    /// <summary>
    /// Whether a request to <paramref name="peer"/> should fail at once; <paramref name="silentFor"/> is how long the
    /// peer has not answered.
    /// </summary>
    public bool Refuses(Uri peer, out TimeSpan silentFor)
    {
        if (_exempt.ContainsKey(peer.Authority) || !_silent.TryGetValue(peer.Authority, out var silence))
        {
            silentFor = TimeSpan.Zero;
            return false;
        }
        silence.LastRefused = time.GetTimestamp();
        silentFor = time.GetElapsedTime(silence.Since);
        return true;
    }

    /// <summary>A request to <paramref name="peer"/> got no answer (deadline, refused or broken connection).</summary>
    public void Missed(Uri peer, string what)
    {
        if (_disposed.IsCancellationRequested || _exempt.ContainsKey(peer.Authority)) return;
        var silence = new Silence(time.GetTimestamp());
        if (!_silent.TryAdd(peer.Authority, silence)) return;
        LogSilent(peer.Authority, what);
        _ = ProbeAsync(peer, silence);
    }

    /// <summary>Until the scope ends, requests to <paramref name="peer"/> go out whatever they missed before.</summary>
    public IDisposable Exempt(Uri peer)
    {
        var authority = peer.Authority;
        _exempt.AddOrUpdate(authority, 1, (_, n) => n + 1);
        return new Scope(() =>
        {
            if (_exempt.AddOrUpdate(authority, 0, (_, n) => n - 1) <= 0) _exempt.TryRemove(new KeyValuePair<string, int>(authority, 0));
        });
    }

    private sealed class Scope(Action end) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) end();
        }
    }

    private async Task ProbeAsync(Uri peer, Silence silence)
    {
        var health = new Uri(new Uri(peer.GetLeftPart(UriPartial.Authority)), "/health/live");
        var stop = _disposed.Token;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(interval, time, stop).ConfigureAwait(false);
                if (time.GetElapsedTime(silence.LastRefused) >= IdleAfter)
                {
                    LogForgotten(peer.Authority, IdleAfter.TotalSeconds);
                    break;
                }
                bool answered;
                try
                {
                    answered = await probe(health, stop).ConfigureAwait(false);
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    answered = false; // no answer in time, refused, reset: still silent
                }
                if (answered)
                {
                    var silentFor = time.GetElapsedTime(silence.Since);
                    LogAnswers(peer.Authority, silentFor.TotalMilliseconds);
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // disposed
        }
        finally
        {
            _silent.TryRemove(new KeyValuePair<string, Silence>(peer.Authority, silence));
        }
    }

    /// <summary>Stops every probe. (The token source is not disposed: a request may still ask about a peer.)</summary>
    public void Dispose() => _disposed.Cancel();

    [LoggerMessage(Level = LogLevel.Information, Message = "member at {Peer} is silent ({What}): Raft requests to it fail at once until it answers a liveness probe")]
    private partial void LogSilent(string peer, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "member at {Peer} answers its liveness probe again after {Milliseconds:F0} ms of silence")]
    private partial void LogAnswers(string peer, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "member at {Peer}: no Raft request for {Seconds:F0} s, probing stops; its next request goes out as usual")]
    private partial void LogForgotten(string peer, double seconds);
}
