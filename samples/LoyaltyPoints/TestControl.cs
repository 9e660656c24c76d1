using System.Collections.Concurrent;
using RaftMall.Client.Participants;

namespace RaftMall.Samples.LoyaltyPoints;

/// <summary>What a test-control rule does to the calls it matches.</summary>
public enum ControlAction
{
    /// <summary>Wait, before touching the store, until <c>POST /test-control/release</c>.</summary>
    Hold,

    /// <summary>Answer 503 (a transient failure the coordinator retries).</summary>
    Fail,

    /// <summary>Wait <c>delayMs</c>, then proceed.</summary>
    Slow,
}

/// <summary>A rule: calls of <paramref name="Operation"/> (and of <paramref name="Branch"/> / <paramref name="Gid"/> when given).</summary>
public sealed record ControlRule(string Operation, ControlAction Action, string? Branch = null, string? Gid = null, int DelayMs = 0)
{
    public bool Matches(ParticipantCall call) =>
        string.Equals(Operation, call.Operation.ToString(), StringComparison.OrdinalIgnoreCase)
        && (Branch is null || Branch == call.BranchId)
        && (Gid is null || Gid == call.Gid);
}

/// <summary>
/// Lets tests stop a participant at a precise point (--enable-test-control only): hold matching calls until released,
/// fail them, or slow them down, and see how many calls are held right now.
/// </summary>
public sealed class TestControl
{
    /// <summary>Upper bound of a slow rule's delay, in milliseconds.</summary>
    public const int MaxDelayMs = 60_000;

    private readonly ConcurrentDictionary<int, ControlRule> _rules = new();
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nextId;
    private int _held;
    private long _heldTotal;

    public int Held => Volatile.Read(ref _held);

    /// <summary>How many calls have been held since start (tests wait for this to grow).</summary>
    public long HeldTotal => Interlocked.Read(ref _heldTotal);

    public IReadOnlyDictionary<int, ControlRule> Rules => _rules;

    public int Add(ControlRule rule)
    {
        var id = Interlocked.Increment(ref _nextId);
        _rules[id] = rule;
        return id;
    }

    public bool Remove(int id) => _rules.TryRemove(id, out _);

    /// <summary>Removes every hold rule (so that retries pass) and lets every held call proceed.</summary>
    public int Release()
    {
        foreach (var (id, rule) in _rules) if (rule.Action == ControlAction.Hold) _rules.TryRemove(id, out _);
        var released = Interlocked.Exchange(ref _release, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        released.SetResult();
        return Held;
    }

    /// <summary>Applies the first matching rule; returns false when the call must be failed.</summary>
    public async Task<bool> ApplyAsync(ParticipantCall call, CancellationToken token)
    {
        var (id, rule) = _rules.OrderBy(r => r.Key).FirstOrDefault(r => r.Value.Matches(call));
        switch (rule?.Action)
        {
            case ControlAction.Fail:
                return false;
            case ControlAction.Slow:
                await Task.Delay(Math.Clamp(rule.DelayMs, 0, MaxDelayMs), token).ConfigureAwait(false);
                return true;
            case ControlAction.Hold:
                var release = Volatile.Read(ref _release).Task;
                if (!_rules.ContainsKey(id)) return true; // released between the match and now
                Interlocked.Increment(ref _held);
                Interlocked.Increment(ref _heldTotal);
                try
                {
                    await release.ConfigureAwait(false); // not the request's token: a call held from a killed leader still completes after release
                }
                finally
                {
                    Interlocked.Decrement(ref _held);
                }
                return true;
            default:
                return true;
        }
    }
}
