using RaftMall.Client.Participants;

namespace RaftMall.Samples.LoyaltyPoints;

/// <summary>
/// One local transaction of <see cref="PointsJournal"/>: reads committed state, stages account changes and the barrier
/// record, and commits them as one journal line. Disposed without commit, it leaves no trace.
/// </summary>
public sealed class PointsTransaction(PointsJournal journal) : IBarrierTransaction
{
    private readonly Dictionary<string, Account> _changed = new(StringComparer.Ordinal);
    private BarrierRecord? _barrier;
    private bool _locked = true;

    public ValueTask<BarrierRecord?> FindBarrierAsync(string gid, string branchId, CancellationToken token) =>
        ValueTask.FromResult(journal.FindBarrier(gid, branchId));

    public void SaveBarrier(BarrierRecord record) => _barrier = record;

    public Account? Find(string name) => _changed.GetValueOrDefault(name) ?? journal.FindAccount(name);

    /// <summary>Sets an account's available points (setup); frozen and spent points stay.</summary>
    public void SetAvailable(string name, long points) =>
        _changed[name] = (Find(name) ?? new Account(name, 0, 0, 0)) with { Available = points };

    /// <summary>Try: moves points from available to frozen; false (nothing staged) when the account lacks them.</summary>
    public bool Freeze(string name, long points)
    {
        if (Find(name) is not { } account || account.Available < points) return false;
        _changed[name] = account with { Available = account.Available - points, Frozen = account.Frozen + points };
        return true;
    }

    /// <summary>Confirm: the frozen points are spent.</summary>
    public void Deduct(string name, long points)
    {
        var account = Find(name) ?? throw new InvalidOperationException($"invariant: confirm for unknown account {name}");
        _changed[name] = account with { Frozen = account.Frozen - points, Spent = account.Spent + points };
    }

    /// <summary>Cancel: the frozen points are available again.</summary>
    public void Unfreeze(string name, long points)
    {
        var account = Find(name) ?? throw new InvalidOperationException($"invariant: cancel for unknown account {name}");
        _changed[name] = account with { Frozen = account.Frozen - points, Available = account.Available + points };
    }

    public async ValueTask CommitAsync(CancellationToken token)
    {
        if (!_locked) throw new InvalidOperationException("the transaction has already committed");
        Task durable;
        try
        {
            durable = journal.Apply(new JournalLine(_barrier, [.. _changed.Values]));
        }
        finally
        {
            _locked = false;
            journal.Unlock(); // the line is queued in memory order; the fsync wait below happens outside the lock
        }
        await durable.ConfigureAwait(false); // not cancellable: once queued, the line will be written
    }

    public ValueTask DisposeAsync()
    {
        if (_locked)
        {
            _locked = false;
            journal.Unlock();
        }
        return ValueTask.CompletedTask;
    }
}
