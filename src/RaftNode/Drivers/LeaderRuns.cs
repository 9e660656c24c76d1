using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace RaftMall.Node.Drivers;

/// <summary>One piece of a leader's work (a transaction, a subscription): a token that ends with the leadership or the node, and a wake-up signal.</summary>
public class LeaderRun(string key, CancellationTokenSource cancellation) : IDisposable
{
    private TaskCompletionSource _wake = NewSignal();

    /// <summary>What the run drives: a transaction's gid, a subscription's name.</summary>
    public string Key => key;

    public CancellationToken Token => cancellation.Token;

    /// <summary>Completes at the next <see cref="WakeUp"/> (an operator's retry: stop waiting for the backoff).</summary>
    public Task WakeSignal => Volatile.Read(ref _wake).Task;

    public void WakeUp() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) cancellation.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The runs of a leader-only driver: at most one per key, each on a task of its own, with a token linked to this
/// node's leadership and to the node's life. A run that ends (done, cancelled with the leadership, or failed) is
/// forgotten, so the driver's next scan can start it again; the next leader resumes from the log.
/// </summary>
/// <param name="create">Makes the run for a key and its token's source (which the run owns).</param>
public sealed class LeaderRuns<TRun>(Func<string, CancellationTokenSource, TRun> create) where TRun : LeaderRun
{
    private readonly ConcurrentDictionary<string, TRun> _runs = new(StringComparer.Ordinal);

    public IEnumerable<TRun> All => _runs.Values;

    public bool TryGet(string key, [NotNullWhen(true)] out TRun? run) => _runs.TryGetValue(key, out run);

    /// <summary>Runs <paramref name="drive"/> for <paramref name="key"/> unless a run of it is under way; <paramref name="failed"/> hears of a run that threw.</summary>
    public void Start(string key, Func<TRun, Task> drive, Action<string, Exception> failed, CancellationToken leadership, CancellationToken stopping)
    {
        if (leadership.IsCancellationRequested || stopping.IsCancellationRequested) return;
        var run = create(key, CancellationTokenSource.CreateLinkedTokenSource(leadership, stopping));
        if (!_runs.TryAdd(key, run))
        {
            run.Dispose();
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await drive(run).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
            {
                // leadership moved or the node stops: the next leader resumes from the log
            }
            catch (Exception e)
            {
                failed(key, e); // the next scan starts it again
            }
            finally
            {
                _runs.TryRemove(new KeyValuePair<string, TRun>(key, run));
                run.Dispose();
            }
        }, CancellationToken.None); // the run watches its own token
    }
}
