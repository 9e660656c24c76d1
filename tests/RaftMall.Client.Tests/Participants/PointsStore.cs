using RaftMall.Client.Participants;

namespace RaftMall.Client.Tests.Participants;

/// <summary>
/// A participant's store for the barrier tests: points balances and barrier records, changed only by committed local
/// transactions (staged changes are dropped on dispose without commit), with counters of committed effects.
/// </summary>
public sealed class PointsStore : IBarrierStore<PointsStore.Transaction>
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Gid, string Branch), BarrierRecord> _barriers = [];
    private readonly Dictionary<string, (long Available, long Frozen)> _accounts = [];

    public int Freezes { get; private set; }
    public int Deductions { get; private set; }
    public int Unfreezes { get; private set; }
    public int Commits { get; private set; }

    /// <summary>When set, every transaction waits here after reading its barrier, to widen race windows.</summary>
    public TimeSpan PauseAfterRead { get; set; }

    public void Deposit(string account, long points)
    {
        lock (_gate) _accounts[account] = (points, 0);
    }

    public (long Available, long Frozen) Account(string account)
    {
        lock (_gate) return _accounts[account];
    }

    public BarrierRecord? Barrier(string gid, string branch)
    {
        lock (_gate) return _barriers.GetValueOrDefault((gid, branch));
    }

    public ValueTask<Transaction> BeginAsync(CancellationToken token) => ValueTask.FromResult(new Transaction(this));

    public sealed class Transaction(PointsStore store) : IBarrierTransaction
    {
        private BarrierRecord? _barrier;
        private readonly Dictionary<string, (long Available, long Frozen)> _accounts = [];
        private int _freezes, _deductions, _unfreezes;

        public async ValueTask<BarrierRecord?> FindBarrierAsync(string gid, string branchId, CancellationToken token)
        {
            BarrierRecord? found;
            lock (store._gate) found = store._barriers.GetValueOrDefault((gid, branchId));
            if (store.PauseAfterRead > TimeSpan.Zero) await Task.Delay(store.PauseAfterRead, token);
            return found;
        }

        public void SaveBarrier(BarrierRecord record) => _barrier = record;

        public (long Available, long Frozen) Read(string account)
        {
            if (_accounts.TryGetValue(account, out var staged)) return staged;
            lock (store._gate) return store._accounts[account];
        }

        public bool Freeze(string account, long points)
        {
            var (available, frozen) = Read(account);
            if (available < points) return false;
            _accounts[account] = (available - points, frozen + points);
            _freezes++;
            return true;
        }

        public void Deduct(string account, long points)
        {
            var (available, frozen) = Read(account);
            _accounts[account] = (available, frozen - points);
            _deductions++;
        }

        public void Unfreeze(string account, long points)
        {
            var (available, frozen) = Read(account);
            _accounts[account] = (available + points, frozen - points);
            _unfreezes++;
        }

        public ValueTask CommitAsync(CancellationToken token)
        {
            lock (store._gate)
            {
                if (_barrier is { } b) store._barriers[(b.Gid, b.BranchId)] = b;
                foreach (var (account, balance) in _accounts)
                {
                    if (balance.Available < 0 || balance.Frozen < 0) throw new InvalidOperationException($"negative balance for {account}");
                    store._accounts[account] = balance;
                }
                store.Freezes += _freezes;
                store.Deductions += _deductions;
                store.Unfreezes += _unfreezes;
                store.Commits++;
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask; // uncommitted changes are simply dropped
    }
}
