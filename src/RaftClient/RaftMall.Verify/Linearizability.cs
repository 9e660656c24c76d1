using System.Diagnostics;

namespace RaftMall.Verify;

/// <summary>The verdict of a linearizability check.</summary>
public enum LinearizabilityVerdict
{
    Linearizable,
    NotLinearizable,
    /// <summary>The search ran out of its time budget.</summary>
    Unknown,
}

/// <summary>What the checker found for one key.</summary>
public sealed record KeyResult(string Key, LinearizabilityVerdict Verdict, int Operations, IReadOnlyList<Operation> History);

/// <summary>
/// Linearizability of single-key register operations (read, write, compare-and-set on the value), checked per key with
/// the Wing–Gong/Lowe search as Porcupine does it: walk the history's call and return events, try to linearize each
/// pending call whose model step agrees with its observed output, backtrack at a return that nothing linearized, and
/// cache (linearized set, state) pairs. An operation with an unknown outcome gets a return time of +infinity, so it may
/// take effect anywhere after its call or, placed last, not at all. Failed operations never took effect and are left out.
/// Unique written values make a cas on "the value I read" equivalent to RaftMall's cas on that value's revision.
/// </summary>
public static class Linearizability
{
    public static IReadOnlyList<KeyResult> Check(IEnumerable<Operation> history, TimeSpan budget)
    {
        var clock = Stopwatch.StartNew();
        var results = new List<KeyResult>();
        foreach (var group in history.Where(o => o.Key is not null && o.Kind is Kinds.Read or Kinds.Write or Kinds.Cas).GroupBy(o => o.Key!).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var relevant = group.Where(o => o.Outcome == Outcome.Ok || (o.Outcome == Outcome.Unknown && o.Kind != Kinds.Read)).ToList();
            var remaining = budget - clock.Elapsed;
            var verdict = remaining <= TimeSpan.Zero ? LinearizabilityVerdict.Unknown : CheckKey(relevant, remaining);
            results.Add(new KeyResult(group.Key, verdict, relevant.Count, relevant));
        }
        return results;
    }

    /// <summary>
    /// The shortest prefix (by invoke time) of a non-linearizable key history that is still not linearizable: what a
    /// reader needs to see the violation. Binary search; each probe is bounded by <paramref name="budget"/>.
    /// </summary>
    public static IReadOnlyList<Operation> SmallestFailingPrefix(IReadOnlyList<Operation> history, TimeSpan budget)
    {
        var ordered = history.OrderBy(o => o.InvokeNs).ToList();
        var (low, high) = (1, ordered.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (CheckKey(ordered.GetRange(0, middle), budget) == LinearizabilityVerdict.NotLinearizable) high = middle;
            else low = middle + 1;
        }
        return ordered.GetRange(0, high);
    }

    /// <summary>One key's history; the model state is the register's value (null: absent).</summary>
    public static LinearizabilityVerdict CheckKey(IReadOnlyList<Operation> operations, TimeSpan budget)
    {
        var deadline = Stopwatch.StartNew();
        var head = BuildEntries(operations);
        var linearized = new System.Collections.BitArray(operations.Count);
        var cache = new HashSet<(string Bits, string? State)>();
        var calls = new Stack<(Entry Call, string? State)>();
        string? state = null;
        var entry = head.Next;
        var steps = 0;
        while (head.Next is not null)
        {
            if ((++steps & 0x3ff) == 0 && deadline.Elapsed > budget) return LinearizabilityVerdict.Unknown;
            if (entry!.IsCall)
            {
                var (ok, next) = Step(state, entry.Operation);
                if (ok)
                {
                    linearized[entry.Id] = true;
                    var key = (Bits(linearized), next);
                    if (cache.Add(key))
                    {
                        calls.Push((entry, state));
                        state = next;
                        Lift(entry);
                        entry = head.Next;
                        continue;
                    }
                    linearized[entry.Id] = false;
                }
                entry = entry.Next;
            }
            else
            {
                // A return with its call not linearized before it: undo the last linearization and try the next choice.
                if (calls.Count == 0) return LinearizabilityVerdict.NotLinearizable;
                var (call, previous) = calls.Pop();
                state = previous;
                linearized[call.Id] = false;
                Unlift(call);
                entry = call.Next;
            }
        }
        return LinearizabilityVerdict.Linearizable;
    }

    /// <summary>The register model: whether <paramref name="op"/> with its observed output can happen in <paramref name="state"/>, and the state after.</summary>
    private static (bool Ok, string? Next) Step(string? state, Operation op) => op.Kind switch
    {
        Kinds.Read => (op.Outcome == Outcome.Ok && op.Value == state, state),
        Kinds.Write => (true, op.Value),
        Kinds.Cas when op.Outcome == Outcome.Unknown => state == op.Expected ? (true, op.Value) : (true, state),
        Kinds.Cas when op.Succeeded == true => (state == op.Expected, op.Value),
        Kinds.Cas => (state != op.Expected, state),
        _ => throw new ArgumentException($"not a register operation: {op.Kind}"),
    };

    private sealed class Entry(Operation operation, int id, bool isCall)
    {
        public Operation Operation { get; } = operation;
        public int Id { get; } = id;
        public bool IsCall { get; } = isCall;
        public Entry? Match { get; set; }
        public Entry? Previous { get; set; }
        public Entry? Next { get; set; }
    }

    // A doubly linked list of call and return events in time order; calls before returns at equal times
    // (closed intervals), unknown outcomes return at +infinity.
    private static Entry BuildEntries(IReadOnlyList<Operation> operations)
    {
        var events = new List<(long Time, bool IsCall, Entry Entry)>();
        for (var i = 0; i < operations.Count; i++)
        {
            var op = operations[i];
            var call = new Entry(op, i, true);
            var ret = new Entry(op, i, false);
            call.Match = ret;
            events.Add((op.InvokeNs, true, call));
            events.Add((op.Outcome == Outcome.Unknown ? long.MaxValue : op.CompleteNs, false, ret));
        }
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : b.IsCall.CompareTo(a.IsCall));
        var head = new Entry(null!, -1, false);
        var tail = head;
        foreach (var (_, _, e) in events)
        {
            tail.Next = e;
            e.Previous = tail;
            tail = e;
        }
        return head;
    }

    private static void Lift(Entry call)
    {
        call.Previous!.Next = call.Next;
        call.Next!.Previous = call.Previous;
        var ret = call.Match!;
        ret.Previous!.Next = ret.Next;
        if (ret.Next is not null) ret.Next.Previous = ret.Previous;
    }

    private static void Unlift(Entry call)
    {
        var ret = call.Match!;
        ret.Previous!.Next = ret;
        if (ret.Next is not null) ret.Next.Previous = ret;
        call.Previous!.Next = call;
        call.Next!.Previous = call;
    }

    private static string Bits(System.Collections.BitArray bits)
    {
        var words = new int[(bits.Length + 31) / 32];
        bits.CopyTo(words, 0);
        return string.Join(',', words);
    }
}
