namespace RaftMall.StateMachine;

/// <summary>
/// The outbox: a bounded ring of the most recent events with a gap-free sequence. When it is full the oldest event is
/// overwritten; a reader (or consumer position) below <see cref="FirstRetainedSequence"/> - 1 has missed events, which
/// the node reports as <c>events_trimmed</c> instead of skipping them.
/// </summary>
internal sealed class EventLog
{
    private const int InitialCapacity = 256;
    private MallEvent[] _ring;
    private int _start; // index of the oldest retained event
    private int _count;

    private readonly Action<MallEvent>? _trimmed;

    /// <param name="retainedEvents">The bound: how many of the newest events are kept.</param>
    /// <param name="trimmed">Called with each event overwritten at the bound, before it is gone.</param>
    public EventLog(int retainedEvents, Action<MallEvent>? trimmed = null)
    {
        _trimmed = trimmed;
        ArgumentOutOfRangeException.ThrowIfLessThan(retainedEvents, 1);
        RetainedEvents = retainedEvents;
        _ring = new MallEvent[Math.Min(InitialCapacity, retainedEvents)];
    }

    public int RetainedEvents { get; }

    /// <summary>The sequence the next event gets; events 1..NextSequence-1 were emitted.</summary>
    public long NextSequence { get; private set; } = 1;

    public int Count => _count;

    /// <summary>Sequence of the oldest event still retained (NextSequence when none is).</summary>
    public long FirstRetainedSequence => NextSequence - _count;

    public MallEvent Append(long atMs, EventKind kind, long orderId, string? subject, string? sku = null, long quantity = 0, string? detail = null, string? payload = null)
    {
        var e = new MallEvent(NextSequence, atMs, kind, orderId, subject, sku, quantity, detail, payload);
        NextSequence++;
        if (_count == _ring.Length && _ring.Length < RetainedEvents)
        {
            Grow();
        }
        if (_count == _ring.Length)
        {
            _trimmed?.Invoke(_ring[_start]);
            _ring[_start] = e; // full at the bound: overwrite the oldest
            _start = (_start + 1) % _ring.Length;
        }
        else
        {
            _ring[(_start + _count) % _ring.Length] = e;
            _count++;
        }
        return e;
    }

    /// <summary>Events with sequence greater than <paramref name="after"/>, oldest first, at most <paramref name="limit"/>.</summary>
    public List<MallEvent> Read(long after, int limit)
    {
        if (after >= NextSequence - 1) return []; // nothing newer (and no overflow of after + 1 below)
        var result = new List<MallEvent>(Math.Min(limit, _count));
        var first = Math.Max(after + 1, FirstRetainedSequence);
        for (var seq = first; seq < NextSequence && result.Count < limit; seq++)
        {
            result.Add(At(seq));
        }
        return result;
    }

    public IEnumerable<MallEvent> All()
    {
        for (var seq = FirstRetainedSequence; seq < NextSequence; seq++) yield return At(seq);
    }

    /// <summary>Rebuilds the log from a snapshot: the retained events in order and the next sequence.</summary>
    public void Restore(IReadOnlyList<MallEvent> events, long nextSequence)
    {
        _ring = new MallEvent[Math.Max(Math.Min(InitialCapacity, RetainedEvents), Math.Min(events.Count, RetainedEvents))];
        _start = 0;
        _count = 0;
        NextSequence = nextSequence - events.Count;
        foreach (var e in events)
        {
            if (e.Sequence != NextSequence) throw new InvariantViolationException("event sequence has a gap");
            Append(e.AtMs, e.Kind, e.OrderId, e.Subject, e.Sku, e.Quantity, e.Detail, e.Payload);
        }
    }

    internal MallEvent At(long sequence) => _ring[(_start + (int)(sequence - FirstRetainedSequence)) % _ring.Length];

    private void Grow()
    {
        var bigger = new MallEvent[Math.Min(RetainedEvents, _ring.Length * 2)];
        for (var i = 0; i < _count; i++) bigger[i] = _ring[(_start + i) % _ring.Length];
        _ring = bigger;
        _start = 0;
    }
}
