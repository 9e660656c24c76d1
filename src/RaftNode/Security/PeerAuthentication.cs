using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using RaftMall.Node.Api;

namespace RaftMall.Node.Security;

/// <summary>
/// In front of DotNext's Raft endpoint: a request must carry a valid <see cref="PeerSignature"/> made with the
/// cluster's peer secret, a timestamp within <see cref="PeerSignature.MaxClockSkew"/> and a nonce not seen before;
/// otherwise it answers 401 <c>peer_unauthenticated</c> before DotNext sees it (no vote, no append, no snapshot, no
/// membership change, no resign). Only an authenticated peer may send an unbounded, slow body (a snapshot).
/// </summary>
public sealed partial class PeerAuthentication(RequestDelegate next, NodeSecurity security, NonceCache nonces, TimeProvider time, ILogger<PeerAuthentication> logger)
{
    private static readonly TimeSpan FailureLogInterval = TimeSpan.FromSeconds(10);
    private long _failures;
    private long _lastFailureLog;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(PeerSignature.ProtocolPath))
        {
            await next(context);
            return;
        }
        // Raft RPCs are thousands per second under load: ASP.NET Core's request metrics stay for the API (DotNext's
        // own meters time the RPCs; docs/observability.md, measured in docs/benchmarks.md).
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMetricsTagsFeature>() is { } metrics) metrics.MetricsDisabled = true;
        if (!security.Insecure && Check(context.Request) is { } failure)
        {
            NoteFailure(context, failure);
            await Problems.Of(StatusCodes.Status401Unauthorized, "peer_unauthenticated", failure).ExecuteAsync(context);
            return;
        }
        // Snapshots are large and stream at the sender's pace: no size or rate limit for a member.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = null;
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate) rate.MinDataRate = null;
        await next(context);
    }

    private string? Check(HttpRequest request)
    {
        var headers = request.Headers;
        if (headers[PeerSignature.TimestampHeader] is not { Count: 1 } stamp || headers[PeerSignature.NonceHeader] is not { Count: 1 } nonce
            || headers[PeerSignature.SignatureHeader] is not { Count: 1 } signature)
        {
            return "Raft requests must be signed with the cluster's peer secret";
        }
        if (!long.TryParse(stamp[0], NumberStyles.None, CultureInfo.InvariantCulture, out var atMs)) return "bad peer timestamp";
        var skew = TimeSpan.FromMilliseconds(Math.Abs(time.GetUtcNow().ToUnixTimeMilliseconds() - atMs));
        if (skew > PeerSignature.MaxClockSkew) return $"peer timestamp is {skew.TotalSeconds:F0} s off this node's clock (at most {PeerSignature.MaxClockSkew.TotalSeconds:F0} s)";
        var signed = headers.Where(h => PeerSignature.IsSigned(h.Key)).Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), string.Join(',', h.Value.ToArray())));
        var expected = PeerSignature.Compute(security.PeerKey, request.Method, request.Host.Value ?? "", request.Path + request.QueryString, stamp[0]!, nonce[0]!, signed);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature[0]!))) return "bad peer signature";
        // Only after the signature: a forger cannot fill the cache.
        if (!nonces.TryAdd(nonce[0]!, atMs)) return "replayed Raft request (nonce seen before)";
        return null;
    }

    private void NoteFailure(HttpContext context, string failure)
    {
        // A rogue client could send thousands of these: one log line per interval, with the count.
        var count = Interlocked.Increment(ref _failures);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFailureLog);
        if (now - last < FailureLogInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _lastFailureLog, now, last) != last) return;
        LogRefused(context.Connection.RemoteIpAddress?.ToString() ?? "?", failure, count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a Raft request from {Remote}: {Reason} ({Count} refused so far)")]
    private partial void LogRefused(string remote, string reason, long count);
}

/// <summary>
/// Nonces of accepted peer requests, kept in two generations that rotate every 2 × MaxClockSkew: a nonce is
/// remembered for at least as long as its timestamp can be accepted, so a captured request cannot be replayed.
/// Memory is bounded by the rate of genuine Raft requests (a forged one never gets here).
/// </summary>
public sealed class NonceCache(TimeProvider time)
{
    private readonly Lock _lock = new();
    private HashSet<string> _current = new(StringComparer.Ordinal);
    private HashSet<string> _previous = new(StringComparer.Ordinal);
    private long _rotatedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();

    public bool TryAdd(string nonce, long timestampMs)
    {
        _ = timestampMs; // the caller checked it is within the skew window
        var window = (long)(2 * PeerSignature.MaxClockSkew.TotalMilliseconds);
        lock (_lock)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (now - _rotatedAtMs >= window)
            {
                (_previous, _current) = (_current, _previous);
                _current.Clear();
                if (now - _rotatedAtMs >= 2 * window) _previous.Clear(); // idle for two windows: both are stale
                _rotatedAtMs = now;
            }
            if (_previous.Contains(nonce)) return false;
            return _current.Add(nonce);
        }
    }
}
