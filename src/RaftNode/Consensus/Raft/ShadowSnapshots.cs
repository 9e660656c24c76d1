using System.Buffers;
using System.Diagnostics;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Takes snapshots without pausing the apply path. A second copy of the state, the shadow, follows the log through a
/// queue of the applied entries' bytes; to snapshot at index N, a background task brings the shadow to N, serializes
/// it and hands the bytes to <c>persist</c>, while the node's own state goes on applying. The apply path pays a copy
/// of each entry's bytes and an enqueue: O(1) per entry and nothing per snapshot.
/// </summary>
/// <remarks>
/// <para>Why a shadow and not a frozen view of the node's own state: that state is a dozen mutable tables
/// (dictionaries, priority queues, sorted sets, the event ring, mutable order objects). A copy-on-write form of every
/// one of them is a rewrite of the state machine, and serializing it in place takes 36–58 ms for 25 MiB on an idle
/// core and hundreds of milliseconds under load (docs/benchmarks.md), which DotNext's <c>SimpleStateMachine</c> made
/// every apply wait for.</para>
/// <para>The shadow runs the same code on the same commands in the same order, so the snapshot it writes at N is byte
/// for byte the one the node's own state would give at N, and the one every other replica writes at N. It costs a
/// second copy of the state in memory and a second apply of each command, on a background thread and in batches
/// (<see cref="CatchUpBytes"/> of queued entries, or a snapshot, whichever comes first), so that the work a snapshot
/// finds left is small.</para>
/// <para>Threads: <see cref="Follow"/>, <see cref="TryBegin"/>, <see cref="StopAsync"/> and <see cref="Reset"/> are
/// called by the applying thread only (DotNext never applies concurrently); the shadow itself is touched by one
/// background run at a time, or by <see cref="Reset"/> when no run is in flight.</para>
/// </remarks>
public sealed partial class ShadowSnapshots : IAsyncDisposable
{
    /// <summary>Bytes of queued entries after which the shadow catches up in the background without a snapshot being due.</summary>
    public const int CatchUpBytes = 1024 * 1024;

    private readonly Func<Target, ReadOnlyMemory<byte>, Work, CancellationToken, Task> _persist;
    private readonly Action<long, ulong>? _checked;
    private long _newestCheck; // the newest CheckState queued (0: none); the shadow hashes it once it gets there
    private readonly ILogger _logger;
    private readonly Lock _queueLock = new();
    private readonly ByteWriter _buffer = new(1024 * 1024);
    private readonly CancellationTokenSource _lifetime = new();
    private int _disposed;
    private Queue<QueuedEntry> _queue = new();
    private long _queuedBytes;
    private MallStateMachine _shadow;
    private long _shadowIndex;
    private Task _run = Task.CompletedTask;
    private CancellationTokenSource _runCancel = new();
    private volatile string? _broken;

    /// <param name="initial">The state the shadow starts from: a copy of the node's state at <paramref name="index"/>.</param>
    /// <param name="index">The index of the last entry <paramref name="initial"/> reflects.</param>
    /// <param name="persist">Writes a serialized snapshot durably and publishes it; runs on the background task.</param>
    /// <param name="checked">
    /// Receives the state hash at each <see cref="CheckState"/> entry, on the background task: the shadow is the
    /// node's state at that entry, so the apply path does not pay for hashing the whole state.
    /// </param>
    public ShadowSnapshots(MallStateMachine initial, long index, Func<Target, ReadOnlyMemory<byte>, Work, CancellationToken, Task> persist, ILogger logger,
        Action<long, ulong>? @checked = null)
    {
        _shadow = initial;
        _shadowIndex = index;
        _persist = persist;
        _checked = @checked;
        _logger = logger;
    }

    /// <summary>The index and term a snapshot is taken at.</summary>
    public readonly record struct Target(long Index, long Term);

    /// <summary>What the background run did before it handed the bytes over: entries the shadow applied, and the time it took.</summary>
    public readonly record struct Work(int Entries, double CatchUpMs, double SerializeMs);

    private readonly record struct QueuedEntry(long Index, byte[] Payload);

    /// <summary>The index of the last entry the shadow has applied (for tests and diagnostics).</summary>
    public long ShadowIndex => Interlocked.Read(ref _shadowIndex);

    /// <summary>Entries waiting for the shadow.</summary>
    public int Queued
    {
        get
        {
            lock (_queueLock) return _queue.Count;
        }
    }

    /// <summary>Whether a background run (a catch-up or a snapshot) is in flight.</summary>
    public bool Running => !_run.IsCompleted;

    /// <summary>Why the shadow stopped taking snapshots (null while it works).</summary>
    public string? Broken => _broken;

    /// <summary>
    /// Queues entry <paramref name="index"/>, which the node's state has just applied. Only entries that carry a
    /// command the node applied are queued (no-ops, configurations and undecodable entries change nothing).
    /// </summary>
    /// A <paramref name="check"/> (a <see cref="CheckState"/>) starts a catch-up at once, or, when a run is in flight,
    /// at the first entry after it ends, so that its hash follows within one check interval even on an idle cluster.
    public void Follow(long index, in ReadOnlySequence<byte> payload, bool check = false)
    {
        if (_broken is not null) return;
        long queued;
        lock (_queueLock)
        {
            _queue.Enqueue(new(index, payload.ToArray()));
            queued = _queuedBytes += payload.Length;
        }
        if (check) _newestCheck = index;
        if ((queued >= CatchUpBytes || _newestCheck > ShadowIndex) && _run.IsCompleted) Start(target: null);
    }

    /// <summary>
    /// Starts a snapshot at <paramref name="target"/> (an entry already passed to <see cref="Follow"/>) unless a run
    /// is in flight; returns whether it started. Never waits: the run catches up and writes in the background.
    /// </summary>
    public bool TryBegin(Target target)
    {
        if (_broken is not null || !_run.IsCompleted) return false;
        Start(target);
        return true;
    }

    /// <summary>
    /// Cancels the run in flight and waits for it to end (the apply path does this before it replaces the state with
    /// an installed snapshot, and on shutdown). A snapshot being written is abandoned; its file is never published.
    /// </summary>
    public async Task StopAsync()
    {
        await _runCancel.CancelAsync().ConfigureAwait(false);
        await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _runCancel.Dispose();
        _runCancel = new();
    }

    /// <summary>
    /// Replaces the shadow with <paramref name="restored"/>, the state at <paramref name="index"/>, and drops the
    /// queue (everything in it is at or below <paramref name="index"/>). Call after <see cref="StopAsync"/>.
    /// </summary>
    public void Reset(MallStateMachine restored, long index)
    {
        Debug.Assert(_run.IsCompleted, "Reset while a run is in flight");
        lock (_queueLock) (_queue, _queuedBytes) = (new(), 0);
        _shadow = restored;
        Interlocked.Exchange(ref _shadowIndex, index);
    }

    /// <summary>Stops the writer; a second call does nothing (the host is registered under two service types, and the container disposes each).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await StopAsync().ConfigureAwait(false);
        _lifetime.Dispose();
        _runCancel.Dispose();
    }

    private void Start(Target? target)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, _runCancel.Token);
        _run = Task.Run(async () =>
        {
            using (cancel) await RunAsync(target, cancel.Token).ConfigureAwait(false);
        }, CancellationToken.None);
    }

    private async Task RunAsync(Target? target, CancellationToken token)
    {
        try
        {
            var clock = Stopwatch.StartNew();
            var applied = CatchUp(target?.Index ?? long.MaxValue, token);
            if (target is not { } at) return;
            if (ShadowIndex != at.Index)
            {
                // The apply path queues an entry before it asks for a snapshot at it: this is a bug, not a race.
                throw new InvalidOperationException($"the shadow reached {ShadowIndex}, not the snapshot index {at.Index}");
            }
            var catchUpMs = clock.Elapsed.TotalMilliseconds;
            _shadow.WriteSnapshot(_buffer);
            await _persist(at, _buffer.WrittenMemory, new(applied, catchUpMs, clock.Elapsed.TotalMilliseconds - catchUpMs), token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped for an installed snapshot or for shutdown.
        }
        catch (IOException e)
        {
            // A full or failing disk: the previous snapshot and the log still hold everything; the next one retries.
            LogSnapshotFailed(target?.Index ?? ShadowIndex, e.Message);
        }
        catch (Exception e) when (e is InvariantViolationException or MallCodecException or InvalidOperationException)
        {
            // The shadow disagrees with the node's state: the same commands applied differently. Stop snapshotting
            // (the log keeps growing, nothing is lost) and make it loud; a restart rebuilds the shadow.
            _broken = e.Message;
            lock (_queueLock) (_queue, _queuedBytes) = (new(), 0);
            LogShadowBroken(e.Message);
        }
    }

    /// <summary>Applies queued entries up to <paramref name="index"/> to the shadow; returns how many.</summary>
    private int CatchUp(long index, CancellationToken token)
    {
        var applied = 0;
        while (!token.IsCancellationRequested)
        {
            QueuedEntry entry;
            lock (_queueLock)
            {
                if (!_queue.TryPeek(out entry) || entry.Index > index) break;
                _queue.Dequeue();
                _queuedBytes -= entry.Payload.Length;
            }
            var (_, command) = Proposal.Decode(new ReadOnlySequence<byte>(entry.Payload));
            _shadow.Apply(command);
            Interlocked.Exchange(ref _shadowIndex, entry.Index);
            if (command is CheckState) _checked?.Invoke(entry.Index, _shadow.StateHash(_buffer));
            applied++;
        }
        token.ThrowIfCancellationRequested();
        return applied;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "snapshot at index {Index} not written: {Reason}; the previous snapshot and the log hold everything, the next snapshot retries")]
    private partial void LogSnapshotFailed(long index, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "the snapshot shadow diverged from this node's state ({Reason}): no more snapshots until a restart; the log grows meanwhile. This is a bug: report it with the node's log")]
    private partial void LogShadowBroken(string reason);
}
