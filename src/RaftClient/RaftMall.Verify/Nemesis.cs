using System.Collections.Concurrent;
using System.Diagnostics;
using RaftMall.Harness;

namespace RaftMall.Verify;

/// <summary>One line of the fault timeline: seconds into the run and the wall clock (UTC, as in the node logs).</summary>
public sealed record FaultEvent(double AtSeconds, string AtUtc, string What);

/// <summary>
/// Injects one fault at a time on a schedule derived from the seed: kill -9 (then restart), SIGSTOP (then SIGCONT),
/// partitions (one node, or with five nodes or more also the leader with one follower; then heal), graceful restarts, full-cluster crashes restarted in the adversarial order (former
/// followers first, the old leader only after they elected a leader and committed a write), and membership changes
/// (a follower removed, its data directory set aside, added back empty as a new member).
/// </summary>
public sealed class Nemesis(VerifyOptions options, NodeProcesses processes, Network? network, IReadOnlyList<string> nodes, Probe probe, Stopwatch clock)
{
    private readonly Random _random = new(options.Seed);
    private readonly ConcurrentQueue<FaultEvent> _timeline = new();
    private readonly ConcurrentQueue<Impairment> _impairments = new();
    private readonly ConcurrentDictionary<string, int> _incarnations = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removed = [];
    private int _replacements;

    /// <summary>How long a membership change may take (the new member catches up first).</summary>
    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What a node started to join gets: it waits without a configuration until a leader adds it.</summary>
    private static readonly Dictionary<string, string> JoinEnvironment = new() { ["RaftMall__Join"] = "true" };

    public IReadOnlyList<FaultEvent> Timeline => [.. _timeline];

    /// <summary>When each node was impaired and answered again, for <see cref="Liveness.MostImpaired"/>.</summary>
    public IReadOnlyList<Impairment> Impairments => [.. _impairments];

    public int Faults { get; private set; }

    public IReadOnlyList<string> Enabled => [.. Verify.Nemeses.All.Where(n => options.Nemeses.Contains(n) && (n != Verify.Nemeses.Partition || network is not null))];

    public void Note(string what) =>
        _timeline.Enqueue(new FaultEvent(Math.Round(clock.Elapsed.TotalSeconds, 3), DateTime.UtcNow.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture), what));

    private void Impair(params IEnumerable<string> targets)
    {
        foreach (var node in targets)
        {
            _incarnations.AddOrUpdate(node, 1, (_, n) => n + 1);
            _impairments.Enqueue(new Impairment(clock.Elapsed.TotalSeconds, node, true));
        }
    }

    private void Restore(params IEnumerable<string> targets)
    {
        foreach (var node in targets) _impairments.Enqueue(new Impairment(clock.Elapsed.TotalSeconds, node, false));
    }

    /// <summary>
    /// Marks <paramref name="node"/> restored, in the background (the schedule goes on), once its (re)started process
    /// follows a leader and has applied what that leader had committed when the node first answered: a node that
    /// answers but still catches up cannot yet stand in for another; not if the nemesis impaired it again meanwhile.
    /// </summary>
    private void RestoreWhenCaughtUp(string node)
    {
        var incarnation = _incarnations.GetValueOrDefault(node);
        var started = clock.Elapsed;
        _ = Task.Run(async () =>
        {
            long? target = null;
            while (clock.Elapsed - started < TimeSpan.FromSeconds(60) && _incarnations.GetValueOrDefault(node) == incarnation)
            {
                if (await probe.StatusAsync(node) is { LeaderId: { } leaderId } status)
                {
                    target ??= leaderId == node ? status.CommitIndex : (await probe.StatusAsync(leaderId))?.CommitIndex;
                    if (target is { } committed && status.AppliedIndex >= committed)
                    {
                        if (_incarnations.GetValueOrDefault(node) == incarnation)
                        {
                            Restore(node);
                            Note($"{node} caught up ({(clock.Elapsed - started).TotalMilliseconds:F0} ms after its start)");
                        }
                        return;
                    }
                }
                await Task.Delay(50);
            }
        });
    }

    public async Task RunAsync(CancellationToken stop)
    {
        var enabled = Enabled;
        if (enabled.Count == 0) return;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), stop);
            while (!stop.IsCancellationRequested)
            {
                await InjectAsync(enabled[_random.Next(enabled.Count)]);
                Faults++;
                await Task.Delay(TimeSpan.FromMilliseconds(1_000 + _random.Next(2_000)), stop);
            }
        }
        catch (OperationCanceledException)
        {
            // the run is over; HealAllAsync repairs whatever is left
        }
    }

    private async Task InjectAsync(string fault)
    {
        var leader = await probe.LeaderAsync();
        var target = leader is not null && _random.Next(2) == 0 ? leader : nodes[_random.Next(nodes.Count)];
        var role = target == leader ? " (leader)" : "";
        var hold = TimeSpan.FromMilliseconds(1_500 + _random.Next(2_000));
        switch (fault)
        {
            case Verify.Nemeses.Kill:
                processes.Kill(target);
                Impair(target);
                Note($"kill -9 {target}{role}");
                await Task.Delay(hold);
                processes.Start(target);
                RestoreWhenCaughtUp(target);
                Note($"restart {target}");
                break;
            case Verify.Nemeses.Pause:
                processes.Pause(target);
                Impair(target);
                Note($"SIGSTOP {target}{role}");
                await Task.Delay(hold);
                processes.Resume(target);
                Restore(target);
                Note($"SIGCONT {target}");
                break;
            case Verify.Nemeses.Partition:
                var side = PartitionSide(target, leader);
                network!.Partition(side);
                Impair(side);
                Note($"partition: {string.Join(",", side.Select(n => n == leader ? n + " (leader)" : n))} | {string.Join(",", nodes.Where(n => !side.Contains(n)))}");
                await Task.Delay(hold);
                network.Heal();
                Restore(side);
                Note("partition healed");
                break;
            case Verify.Nemeses.Restart:
                Impair(target);
                processes.Stop(target, TimeSpan.FromSeconds(5));
                processes.Start(target);
                RestoreWhenCaughtUp(target);
                Note($"graceful restart {target}{role}");
                break;
            case Verify.Nemeses.CrashAll:
                await CrashAllAsync(leader);
                break;
            case Verify.Nemeses.Membership:
                await ReplaceFollowerAsync(leader);
                break;
        }
    }

    /// <summary>
    /// Replaces a follower as an operator replaces a dead disk (docs/operations.md): removes it from the members, kills
    /// it, sets its data directory aside (as &lt;node&gt;.replaced-&lt;n&gt; beside the others, for its logs), starts it
    /// empty to join, and adds it back as a new member, which catches up from the leader (by snapshot when the log is
    /// compacted). Node identity makes the new member a different one at the same address.
    /// </summary>
    private async Task ReplaceFollowerAsync(string? leader)
    {
        var candidates = nodes.Where(n => n != leader && !_removed.Contains(n)).ToList();
        if (candidates.Count == 0 || _removed.Count > 0) return; // one member out at a time
        var follower = candidates[_random.Next(candidates.Count)];
        if (await probe.RemoveMemberAsync(follower, ChangeTimeout) is { } refused)
        {
            if (await probe.IsMemberAsync(follower) is not false)
            {
                Note($"membership: removing {follower} failed ({refused}); it stays a member");
                return;
            }
            Note($"membership: removing {follower} answered {refused}, but the leader no longer lists it: an earlier attempt took effect");
        }
        _removed.Add(follower);
        Impair(follower);
        processes.Kill(follower);
        var directory = processes.DataDirectory(follower);
        if (Directory.Exists(directory)) Directory.Move(directory, $"{directory}.replaced-{++_replacements}");
        Note($"membership: removed {follower}; its data directory set aside; started empty to join");
        processes.Start(follower, JoinEnvironment);
        await AddBackAsync(follower);
    }

    private async Task AddBackAsync(string node)
    {
        // The leader refuses a node that does not answer yet (member_unreachable): give a fresh process time to listen.
        for (var waited = Stopwatch.StartNew(); await probe.StatusAsync(node) is null && waited.Elapsed < ChangeTimeout;) await Task.Delay(200);
        if (await probe.AddMemberAsync(node, ChangeTimeout) is { } refused)
        {
            Note($"membership: adding {node} back failed ({refused}); healing retries");
            return;
        }
        _removed.Remove(node);
        Restore(node);
        Note($"membership: {node} added back as a new member");
    }

    /// <summary>
    /// The side cut off from the rest: the target alone, or with five nodes or more, every other time, the leader with
    /// one follower. That pair is the case a follower's read barrier must get right: the old leader keeps the follower
    /// and its own commit index for a while, the majority elects a new leader and commits, and a barrier that asks the
    /// old leader instead of a quorum reads stale state on the follower.
    /// </summary>
    private List<string> PartitionSide(string target, string? leader)
    {
        // Only larger clusters draw here, so a seed keeps its fault schedule on three nodes.
        if (nodes.Count < 5 || leader is null || _random.Next(2) == 0) return [target];
        var followers = nodes.Where(n => n != leader).ToList();
        return [leader, followers[_random.Next(followers.Count)]];
    }

    private async Task CrashAllAsync(string? leader)
    {
        foreach (var node in nodes) processes.Kill(node);
        Impair(nodes);
        Note($"kill -9 all nodes (leader was {leader ?? "unknown"})");
        // A node the membership fault removed (and could not add back yet) is no follower: it restarts to join again,
        // and without a majority of the members among the followers the old leader restarts with them.
        foreach (var node in _removed) processes.Start(node, JoinEnvironment);
        var members = nodes.Where(n => !_removed.Contains(n)).ToList();
        var followers = members.Where(n => n != leader).ToList();
        foreach (var node in followers)
        {
            processes.Start(node);
            RestoreWhenCaughtUp(node);
        }
        Note($"restart former followers first: {string.Join(",", followers)}");
        if (leader is null) return;
        if (followers.Count <= members.Count / 2)
        {
            Note($"{string.Join(",", followers)} are no majority of the members ({string.Join(",", members)}): restart {leader} too");
            processes.Start(leader);
            RestoreWhenCaughtUp(leader);
            return;
        }
        var elected = await probe.WaitForLeaderAsync(followers, TimeSpan.FromSeconds(20));
        var committed = elected is not null && await probe.CommitMarkerAsync(elected);
        Note(committed ? $"{elected} elected and committed a write; now restart {leader}" : $"no commit among {string.Join(",", followers)} in time; restart {leader} anyway");
        processes.Start(leader);
        RestoreWhenCaughtUp(leader);
    }

    /// <summary>Ends every fault: resumes paused nodes, heals partitions, starts dead nodes, adds removed members back.</summary>
    public async Task HealAllAsync()
    {
        network?.Heal();
        foreach (var node in nodes)
        {
            if (processes.IsPaused(node)) processes.Resume(node);
            if (!processes.IsRunning(node)) processes.Start(node, _removed.Contains(node) ? JoinEnvironment : null);
        }
        Restore(nodes.Where(n => !_removed.Contains(n)));
        foreach (var node in _removed.ToList()) await AddBackAsync(node);
        Note(_removed.Count == 0 ? "healed: every node running, connected and a member" : $"healed, but {string.Join(",", _removed)} could not be added back");
    }
}
