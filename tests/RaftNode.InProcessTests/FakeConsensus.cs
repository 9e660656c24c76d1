using RaftMall.Node.Consensus;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Codec;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// The consensus seam without Raft: this node leads (or not) as the test says, and a proposal is applied to the node's
/// <see cref="ReplicatedState"/> at the next index — at once, or when the test releases it (<see cref="Hold"/>), or
/// answered with an outcome the test chooses (<see cref="Answer"/>). As the Raft implementation does, a command is
/// encoded for its entry first: one over the codec's size limit throws <see cref="MallCodecException"/> and nothing is
/// appended.
/// </summary>
public sealed class FakeConsensus(ReplicatedState state, ClusterNode self) : IConsensus, IDisposable
{
    private readonly ClusterNode _self = self;
    private readonly Lock _lock = new();
    private readonly List<(MallCommand Command, TaskCompletionSource<ProposeOutcome> Done)> _held = [];
    private CancellationTokenSource _leadership = new();
    private TaskCompletionSource _leaderChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _index;

    public ClusterNode? Leader { get; private set; } = self;

    public void Dispose() => _leadership.Dispose();

    public bool IsLeader => Leader == _self;

    /// <summary>Set by a test: whether this node still reaches a majority (true by default).</summary>
    public bool ReachesMajority { get; set; } = true;

    public CancellationToken? Leadership => IsLeader ? _leadership.Token : null;

    public Task NextLeaderChange => Volatile.Read(ref _leaderChanged).Task;

    /// <summary>Every command proposed, in order (one per log entry).</summary>
    public List<MallCommand> Proposed { get; } = [];

    /// <summary>Proposals the codec refused (over the size limit of one entry): thrown back, not appended.</summary>
    public int Oversized { get; private set; }

    /// <summary>When true, proposals wait until <see cref="Release"/>.</summary>
    public bool Hold { get; set; }

    /// <summary>When it returns an outcome for a command, that is the answer and nothing is applied.</summary>
    public Func<MallCommand, ProposeOutcome?>? Answer { get; set; }

    public int ReadBarriers { get; private set; }

    /// <summary>When set, read barriers fail with it.</summary>
    public Exception? ReadBarrierFailure { get; set; }

    public int HeldCount
    {
        get
        {
            lock (_lock) return _held.Count;
        }
    }

    public Task<ProposeOutcome> ProposeAsync(MallCommand command, CancellationToken token)
    {
        lock (_lock)
        {
            try
            {
                CommandCodec.Encode(command); // the entry's payload, as RaftConsensus makes it before appending
            }
            catch (MallCodecException)
            {
                Oversized++;
                throw;
            }
            Proposed.Add(command);
            if (!IsLeader) return Task.FromResult<ProposeOutcome>(new ProposeOutcome.NotLeader());
            if (Answer?.Invoke(command) is { } answer) return Task.FromResult(answer);
            if (!Hold) return Task.FromResult<ProposeOutcome>(ApplyLocked(command));
            var done = new TaskCompletionSource<ProposeOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            _held.Add((command, done));
            return done.Task;
        }
    }

    /// <summary>Commits and applies the oldest held proposal (or answers it with <paramref name="outcome"/>).</summary>
    public void Release(ProposeOutcome? outcome = null)
    {
        (MallCommand Command, TaskCompletionSource<ProposeOutcome> Done) next;
        ProposeOutcome result;
        lock (_lock)
        {
            next = _held[0];
            _held.RemoveAt(0);
            result = outcome ?? ApplyLocked(next.Command);
        }
        next.Done.SetResult(result);
    }

    public void ReleaseAll()
    {
        while (HeldCount > 0) Release();
    }

    public Task ReadBarrierAsync(CancellationToken token)
    {
        ReadBarriers++;
        return ReadBarrierFailure is { } failure ? Task.FromException(failure) : Task.CompletedTask;
    }

    /// <summary>The active configuration; the test sets it (a member the bootstrap list does not know works like any other).</summary>
    public List<ClusterNode> MemberList { get; set; } = [self];

    public IReadOnlyList<ClusterNode> Members
    {
        get
        {
            lock (_lock) return [.. MemberList];
        }
    }

    /// <summary>When it returns an outcome for a change (add or remove, and the address), that is the answer and nothing changes.</summary>
    public Func<string, Uri, MembershipOutcome?>? MembershipAnswer { get; set; }

    public Task<MembershipOutcome> AddMemberAsync(Uri address, CancellationToken token) => ChangeMembers("add", address, members =>
    {
        if (members.Any(m => NodeSettings.SameAuthority(m.Uri, address))) return false;
        members.Add(new ClusterNode { Id = address.Authority, Address = address.GetLeftPart(UriPartial.Authority) });
        return true;
    });

    public Task<MembershipOutcome> RemoveMemberAsync(Uri address, CancellationToken token) =>
        ChangeMembers("remove", address, members => members.RemoveAll(m => NodeSettings.SameAuthority(m.Uri, address)) > 0);

    /// <summary>Resignations asked for; the test moves leadership itself (<see cref="LeaderIs"/>).</summary>
    public int Resignations { get; private set; }

    public Task<bool> ResignAsync(CancellationToken token)
    {
        if (!IsLeader) return Task.FromResult(false);
        Resignations++;
        return Task.FromResult(true);
    }

    private Task<MembershipOutcome> ChangeMembers(string change, Uri address, Func<List<ClusterNode>, bool> apply)
    {
        if (!IsLeader) return Task.FromResult<MembershipOutcome>(new MembershipOutcome.NotLeader());
        if (MembershipAnswer?.Invoke(change, address) is { } answer) return Task.FromResult(answer);
        lock (_lock) return Task.FromResult<MembershipOutcome>(new MembershipOutcome.Done(apply(MemberList)));
    }

    public ConsensusStatus Status() => new(
        IsLeader ? "leader" : Leader is null ? "candidate" : "follower", 1, Leader, Interlocked.Read(ref _index), state.LastAppliedIndex, 0, 0, 0, 0, true);

    /// <summary>Leadership moves to <paramref name="leader"/> (null: an election is in progress); this node's leadership token ends.</summary>
    public void LeaderIs(ClusterNode? leader)
    {
        if (IsLeader && leader != _self)
        {
            _leadership.Cancel();
            _leadership = new CancellationTokenSource();
        }
        Leader = leader;
        Interlocked.Exchange(ref _leaderChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
    }

    private ProposeOutcome.Applied ApplyLocked(MallCommand command)
    {
        var index = ++_index;
        return new ProposeOutcome.Applied(state.Apply(index, command), index);
    }
}
