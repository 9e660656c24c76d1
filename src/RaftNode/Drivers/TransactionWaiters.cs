using System.Collections.Concurrent;
using RaftMall.Node.Consensus;
using RaftMall.StateMachine;

namespace RaftMall.Node.Drivers;

/// <summary>
/// Lets a request wait until a transaction reaches a condition (decided, finished) without polling: every applied
/// command that can change a transaction wakes the waiters of that transaction only.
/// </summary>
public sealed class TransactionWaiters
{
    private readonly ReplicatedState _state;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);

    private readonly TimeProvider _time;

    public TransactionWaiters(ReplicatedState state, TimeProvider time)
    {
        _state = state;
        _time = time;
        state.CommandApplied += OnApplied;
    }

    /// <summary>The transaction once <paramref name="reached"/> holds for it, or as it stands at <paramref name="until"/>.</summary>
    public async Task<GlobalTransaction?> WaitAsync(string gid, Func<GlobalTransaction, bool> reached, TimeSpan until, CancellationToken token)
    {
        using var timer = new CancellationTokenSource(until, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token, timer.Token);
        while (true)
        {
            // Take the signal before reading, so a change between the read and the wait is not missed.
            var signal = _signals.GetOrAdd(gid, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var txn = _state.Read(s => s.GetTransaction(gid));
            if (txn is null || reached(txn) || timeout.IsCancellationRequested)
            {
                // A finished transaction never changes again: nothing would ever remove its signal.
                if ((txn is null || txn.IsFinished) && _signals.TryRemove(new KeyValuePair<string, TaskCompletionSource>(gid, signal))) signal.TrySetResult();
                return txn;
            }
            try
            {
                await signal.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                // timed out: answer with the transaction as it stands
            }
        }
    }

    private void OnApplied(MallCommand command)
    {
        switch (command)
        {
            case BeginTransaction c: Wake(c.Gid); break;
            case DecideTransaction c: Wake(c.Gid); break;
            case RetryTransaction c: Wake(c.Gid); break;
            case RecordPhaseTwo c:
                foreach (var item in c.Items) Wake(item.Gid);
                break;
            case CommandBatch c:
                foreach (var nested in c.Commands) OnApplied(nested);
                break;
            case ExpireDue:
                foreach (var gid in _signals.Keys) Wake(gid); // a tick may abort any open transaction
                break;
        }
    }

    private void Wake(string gid)
    {
        if (_signals.TryRemove(gid, out var signal)) signal.TrySetResult();
    }
}
