using System.Diagnostics;

namespace RaftMall.Node.Consensus;

/// <summary>
/// When this node applied the entries that emitted the newest outbox events: a bounded ring of (first and last event
/// sequence of an entry, <see cref="Stopwatch"/> timestamp), local to the node and never replicated. On the leader an
/// entry is applied right after it is committed, so this is the time delivery to push subscribers is measured from
/// (<c>raftmall.subscription.delivery.delay</c>). Older events are forgotten: their delay is not recorded.
/// </summary>
public sealed class EventApplyTimes
{
    /// <summary>Entries remembered: with group commit an entry carries many events, so this covers seconds of full load.</summary>
    public const int Capacity = 8_192;

    private readonly Lock _lock = new();
    private readonly long[] _first = new long[Capacity];
    private readonly long[] _last = new long[Capacity];
    private readonly long[] _appliedAt = new long[Capacity];
    private long _count; // entries noted since the last Clear; entry n is in slot n % Capacity

    /// <summary>Notes that the entry which emitted events <paramref name="first"/>..<paramref name="last"/> was applied at <paramref name="timestamp"/>.</summary>
    public void Note(long first, long last, long timestamp)
    {
        lock (_lock)
        {
            var slot = (int)(_count % Capacity);
            (_first[slot], _last[slot], _appliedAt[slot]) = (first, last, timestamp);
            _count++;
        }
    }

    /// <summary>Forgets everything (the state was replaced by a snapshot, whose events were applied elsewhere).</summary>
    public void Clear()
    {
        lock (_lock) _count = 0;
    }

    /// <summary>When the entry that emitted event <paramref name="sequence"/> was applied here, or null when it is not remembered.</summary>
    public long? AppliedAt(long sequence)
    {
        lock (_lock)
        {
            if (_count == 0) return null;
            // Entries are noted in log order and sequences only grow: the first remembered entry whose last sequence
            // reaches the one asked for is the only one that can hold it.
            long lo = _count - Math.Min(_count, Capacity), hi = _count - 1;
            while (lo < hi)
            {
                var mid = lo + ((hi - lo) / 2);
                if (_last[(int)(mid % Capacity)] >= sequence) hi = mid;
                else lo = mid + 1;
            }
            var slot = (int)(lo % Capacity);
            return _first[slot] <= sequence && sequence <= _last[slot] ? _appliedAt[slot] : null;
        }
    }
}
