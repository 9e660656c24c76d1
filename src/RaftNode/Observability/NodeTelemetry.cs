using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RaftMall.Node.Observability;

/// <summary>
/// RaftMall's own instruments and spans (docs/observability.md). Names follow OpenTelemetry's conventions: dotted,
/// lower case, a unit per instrument (seconds for durations, By for sizes, {curly} annotations for counts); the
/// Prometheus exporter turns them into <c>raftmall_write_duration_seconds</c> and the like. Static like the runtime's
/// and DotNext's meters: one node per process, and a meter nobody listens to costs a branch per call.
/// </summary>
public static class NodeTelemetry
{
    public const string Name = "RaftMall.Node";

    public static readonly Meter Meter = new(Name);

    /// <summary>Spans of writes (API, propose, commit, apply) and of the coordinator's phases.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>Client writes answered by this node's gateway, by outcome code (ok or the problem code).</summary>
    public static readonly Counter<long> Writes = Meter.CreateCounter<long>("raftmall.writes", "{write}", "Client writes answered, by outcome code");

    /// <summary>From the gateway taking a write to its answer (queue, propose, replicate, commit, apply).</summary>
    public static readonly Histogram<double> WriteDuration = Meter.CreateHistogram("raftmall.write.duration", "s", "Time from taking a client write to answering it",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1, 2, 5, 10] });

    /// <summary>
    /// One stage of a write on the leader, by <c>stage</c>: <c>queue</c> (waiting for an entry of group commit),
    /// <c>commit</c> (the entry handed to DotNext until its apply starts: append, leader flush, the followers' round,
    /// commit), <c>apply</c> (the state machine), <c>handoff</c> (apply done until the proposer resumes). With DotNext's
    /// flush and AppendEntries times they break a write down (docs/benchmarks.md, "Where one write's time goes").
    /// </summary>
    public static readonly Histogram<double> WriteStageDuration = Meter.CreateHistogram("raftmall.write.stage.duration", "s", "Time a write spends in one stage on the leader",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1] });

    /// <summary>A follower's flush of the entries it appended, before it acknowledges them (durable follower appends).</summary>
    public static readonly Histogram<double> FollowerFlushDuration = Meter.CreateHistogram("raftmall.raft.follower_flush.duration", "s", "Time a follower spends flushing appended entries before it acknowledges them",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128] });

    public static void RecordStage(string stage, TimeSpan elapsed) =>
        WriteStageDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));

    /// <summary>Log entries this node proposed as leader (an entry of group commit holds many writes).</summary>
    public static readonly Counter<long> Entries = Meter.CreateCounter<long>("raftmall.log.entries", "{entry}", "Log entries proposed by this node as leader");

    /// <summary>Client writes per proposed entry (group commit).</summary>
    public static readonly Histogram<int> WritesPerEntry = Meter.CreateHistogram("raftmall.log.writes_per_entry", "{write}", "Client writes carried by one proposed log entry",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    /// <summary>Writes this node passed to the leader, by outcome (answered, outcome_unknown, no_leader).</summary>
    public static readonly Counter<long> ForwardedWrites = Meter.CreateCounter<long>("raftmall.forwarded_writes", "{write}", "Client writes forwarded to the leader, by outcome");

    /// <summary>Times this node saw the leader change (including to none: an election started).</summary>
    public static readonly Counter<long> CommitsHeldBack = Meter.CreateCounter<long>("raftmall.raft.commits_held_back", "{commit}",
        "Leader commits held back to what a majority had confirmed (DotNext asked for more: a round decided on fewer answers than members)");

    /// <summary>How late the stall watch's probes woke or ran (<see cref="StallWatch"/>): every look that was late at all.</summary>
    public static readonly Histogram<double> StallDuration = Meter.CreateHistogram("raftmall.runtime.stall.duration", "s",
        "How late the stall watch's probes woke (the process held: GC or no CPU) or ran (the thread pool busy)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2] });

    /// <summary>Stalls of 100 ms or more, by probe (<c>process</c>, <c>thread pool</c>).</summary>
    public static readonly Counter<long> Stalls = Meter.CreateCounter<long>("raftmall.runtime.stalls", "{stall}",
        "Stalls of 100 ms or more seen by the stall watch, by probe");

    /// <summary>Pre-votes held until this node's election timer ran out (<c>Consensus/Raft/PreVoteHold</c>).</summary>
    public static readonly Counter<long> PreVotesHeld = Meter.CreateCounter<long>("raftmall.raft.pre_votes_held", "{pre-vote}",
        "Pre-votes from a candidate ahead of this log, answered once this node's own election timer had run out");

    /// <summary>Pre-votes refused by the tie-break between two level candidates (<c>Consensus/Raft/PreVoteHold</c>).</summary>
    public static readonly Counter<long> PreVotesTieBroken = Meter.CreateCounter<long>("raftmall.raft.pre_votes_tie_broken", "{pre-vote}",
        "Pre-votes refused because this node, level with the candidate and ordered before it, stood for election itself");

    /// <summary>Background gen2 collections started to keep the runtime's background GC thread alive (<c>Observability/BackgroundGcKeeper</c>).</summary>
    public static readonly Counter<long> KeepAliveCollections = Meter.CreateCounter<long>("raftmall.runtime.keep_alive_collections", "{collection}",
        "Background gen2 collections this node started so that the runtime's background GC thread never has to be created during a pause");

    public static readonly Counter<long> LeaderChanges = Meter.CreateCounter<long>("raftmall.raft.leader_changes", "{change}", "Changes of the leader this node knows, elections included");

    /// <summary>Snapshots written by this node, and how long serializing and writing took.</summary>
    public static readonly Histogram<double> SnapshotDuration = Meter.CreateHistogram<double>("raftmall.snapshot.duration", "s", "Time to serialize and write one snapshot");

    public static readonly Histogram<long> SnapshotSize = Meter.CreateHistogram<long>("raftmall.snapshot.size", "By", "Size of one snapshot");

    /// <summary>Coordinator calls to participants, by outcome (success, refused, rejected, transient) and phase.</summary>
    /// <summary>Events delivered to push subscribers and acknowledged by them (2xx).</summary>
    public static readonly Counter<long> SubscriptionEvents = Meter.CreateCounter<long>("raftmall.subscription.events", "{event}", "Events delivered to push subscribers and acknowledged (2xx), on the leader");

    /// <summary>Log entries that recorded subscription progress.</summary>
    public static readonly Counter<long> SubscriptionRecords = Meter.CreateCounter<long>("raftmall.subscription.records", "{entry}", "Log entries recording the acknowledged positions of push subscriptions");

    /// <summary>
    /// Per event and subscription: from this node applying the event's entry (right after its commit, on the leader) to
    /// the subscriber acknowledging the batch that carried it, retries included. A new leader counts what it applied as a
    /// follower from then (so a redelivery after a failover includes it); events it restored from a snapshot, or applied
    /// too long ago to be remembered (<c>Consensus/EventApplyTimes</c>), are not recorded.
    /// </summary>
    public static readonly Histogram<double> SubscriptionDeliveryDelay = Meter.CreateHistogram("raftmall.subscription.delivery.delay", "s",
        "Time from the leader applying an event to a push subscriber acknowledging it",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });

    /// <summary>Time of one delivery call to a push subscriber, by outcome.</summary>
    public static readonly Histogram<double> SubscriptionCallDuration = Meter.CreateHistogram("raftmall.subscription.call.duration", "s", "Time of one delivery call to a push subscriber",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    public static readonly Histogram<double> ParticipantCallDuration = Meter.CreateHistogram("raftmall.participant.call.duration", "s", "Time of one call to a transaction participant",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
}
