namespace RaftMall.StateMachine;

// The key-value store: per-key revisions from one store-wide counter, compare-and-set on revision.
public sealed partial class MallStateMachine
{
    private readonly Dictionary<string, KvEntry> _kv = new(StringComparer.Ordinal);

    /// <summary>The store revision: incremented by every successful put or delete.</summary>
    public long KvRevision { get; private set; }

    private MallResult ApplyKvPut(KvPut c)
    {
        if (Validation.CheckKey(c.Key) is { } keyError) return Invalid(keyError);
        if (Validation.CheckValue(c.Value) is { } valueError) return Invalid(valueError);
        var exists = _kv.TryGetValue(c.Key, out var current);
        if (c.ExpectedRevision is { } expected && expected != (exists ? current.Revision : 0))
        {
            return RevisionMismatch(c.Key, expected, exists ? current.Revision : 0);
        }
        var entry = new KvEntry(c.Key, c.Value, ++KvRevision);
        _kv[c.Key] = entry;
        return new KvResult(entry);
    }

    private MallResult ApplyKvDelete(KvDelete c)
    {
        if (Validation.CheckKey(c.Key) is { } keyError) return Invalid(keyError);
        if (!_kv.TryGetValue(c.Key, out var current)) return new Rejected(ErrorCode.KeyNotFound, $"no key {c.Key}");
        if (c.ExpectedRevision is { } expected && expected != current.Revision)
        {
            return RevisionMismatch(c.Key, expected, current.Revision);
        }
        _kv.Remove(c.Key);
        return new KvDeleted(c.Key, ++KvRevision);
    }

    private static Rejected RevisionMismatch(string key, long expected, long actual) =>
        new(ErrorCode.RevisionMismatch, $"key {key} is at revision {actual}, not {expected}");
}
