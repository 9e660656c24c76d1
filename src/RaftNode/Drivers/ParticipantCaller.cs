using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>How one participant call ended, as the coordinator classifies it.</summary>
public enum CallOutcome
{
    /// <summary>2xx: done (a yes vote in phase 1, an acknowledgement in phase 2).</summary>
    Success,
    /// <summary>409 or 422 in phase 1: a business refusal (the participant did nothing).</summary>
    Refused,
    /// <summary>Any other 4xx: the participant rejects the request; a no vote in phase 1, retried in phase 2.</summary>
    Rejected,
    /// <summary>5xx, connection error or timeout: the outcome is unknown; retried.</summary>
    Transient,
}

public readonly record struct CallResult(CallOutcome Outcome, string Error);

/// <summary>
/// Calls HTTP participants: POST of the branch payload with the RaftMall-* headers, a timeout on every call, and at
/// most <c>txnMaxCallsPerParticipant</c> calls in flight per participant (host:port), so a slow or dead participant
/// only queues its own calls and never those of the others. Connections are pooled by the named HttpClient.
/// </summary>
public sealed class ParticipantCaller(IHttpClientFactory clients, NodeSettings settings, TimeProvider time)
{
    public const string ClientName = "txn-participants";

    /// <summary>Longest part of a participant's answer kept as the branch's last error.</summary>
    private const int MaxBodyInError = 200;

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _slots = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The operation name sent in RaftMall-Operation for a phase (1, commit, abort) of a mode.</summary>
    public static string Operation(TransactionMode mode, Decision phase) => (mode, phase) switch
    {
        (TransactionMode.Tcc, Decision.None) => "try",
        (TransactionMode.Tcc, Decision.Commit) => "confirm",
        (TransactionMode.Tcc, _) => "cancel",
        (TransactionMode.TwoPhase, Decision.None) => "prepare",
        (TransactionMode.TwoPhase, Decision.Commit) => "commit",
        (TransactionMode.TwoPhase, _) => "rollback",
        (_, Decision.None) => "action",
        _ => "compensate",
    };

    /// <summary>Calls the branch's URL for <paramref name="phase"/> (None = phase 1). Never throws but for cancellation by <paramref name="token"/>.</summary>
    public async Task<CallResult> CallAsync(GlobalTransaction txn, BranchSpec branch, Decision phase, int attempt, TimeSpan timeout, CancellationToken token)
    {
        var started = time.GetTimestamp();
        var result = await CallOnceAsync(txn, branch, phase, attempt, timeout, token).ConfigureAwait(false);
        NodeTelemetry.ParticipantCallDuration.Record(time.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("outcome", result.Outcome.ToString().ToLowerInvariant()),
            new KeyValuePair<string, object?>("operation", Operation(txn.Mode, phase)));
        return result;
    }

    private async Task<CallResult> CallOnceAsync(GlobalTransaction txn, BranchSpec branch, Decision phase, int attempt, TimeSpan timeout, CancellationToken token)
    {
        var url = new Uri(branch.Urls[phase switch { Decision.None => 0, Decision.Commit => 1, _ => 2 }]);
        var slots = _slots.GetOrAdd(url.GetLeftPart(UriPartial.Authority), _ => new SemaphoreSlim(settings.Cluster.TxnMaxCallsPerParticipant));
        using var timer = new CancellationTokenSource(timeout, time); // waiting for a slot counts: a participant that is slow to answer is slow
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token, timer.Token);
        try
        {
            await slots.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return new CallResult(CallOutcome.Transient, $"no free slot for {url.Authority} within {timeout.TotalMilliseconds:F0} ms (it is slow)");
        }
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url);
            request.Content = new StringContent(branch.Payload.Length == 0 ? "{}" : branch.Payload, Encoding.UTF8, "application/json");
            Contract.ParticipantHeaders.Add(request.Headers, txn.Gid, branch.BranchId, Operation(txn.Mode, phase), attempt, TransactionNames.Mode(txn.Mode));
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300) return new CallResult(CallOutcome.Success, "");
            var body = await ReadSomeAsync(response, deadline.Token).ConfigureAwait(false);
            var error = $"{status} {response.ReasonPhrase}: {body}";
            if (status >= 500) return new CallResult(CallOutcome.Transient, error);
            var refused = phase == Decision.None && response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity;
            return new CallResult(refused ? CallOutcome.Refused : CallOutcome.Rejected, error);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return new CallResult(CallOutcome.Transient, $"no answer within {timeout.TotalMilliseconds:F0} ms");
        }
        catch (HttpRequestException e)
        {
            return new CallResult(CallOutcome.Transient, e.HttpRequestError + ": " + e.Message);
        }
        finally
        {
            slots.Release();
        }
    }

    private static async Task<string> ReadSomeAsync(HttpResponseMessage response, CancellationToken token)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            return text.Length > MaxBodyInError ? text[..MaxBodyInError] + "…" : text;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return "(body unreadable)";
        }
    }
}
