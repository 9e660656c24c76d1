using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Http;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>Wires DotNext's Raft into the node: the cluster member, its HTTP transport, the durable log, the state machine.</summary>
public static partial class RaftStartup
{
    /// <summary>Registers DotNext's Raft over HTTP, the durable log, the state machine adapter and <see cref="IConsensus"/>.</summary>
    public static void AddRaftConsensus(this WebApplicationBuilder builder, NodeSettings settings)
    {
        var cluster = settings.Cluster;
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["publicEndPoint"] = NodeSettings.MemberUri(settings.Self).ToString(),
            // The configuration is the persisted one, seeded from cluster.yml on a bootstrap node's first start
            // (ConfigurationSeed); a joining node starts with none and waits to be added, never adding itself.
            ["coldStart"] = "false",
            [$"metadata:{MemberDirectory.NodeIdKey}"] = settings.NodeId,
            ["lowerElectionTimeout"] = cluster.ElectionTimeoutLowerMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["upperElectionTimeout"] = cluster.ElectionTimeoutUpperMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["heartbeatThreshold"] = ((double)cluster.HeartbeatIntervalMs / cluster.ElectionTimeoutLowerMs).ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Raft RPCs carry snapshots too: allow seconds for those; elections do not wait for slow peers.
            ["requestTimeout"] = "00:00:10",
            ["rpcTimeout"] = "00:00:05",
            ["protocolVersion"] = "Http1",
            ["warmupRounds"] = cluster.MembershipWarmupRounds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        var listen = builder.Configuration["RaftMall:Listen"] ?? settings.Self.Uri.GetLeftPart(UriPartial.Authority);
        builder.WebHost.UseUrls(listen);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
        });

        var services = builder.Services;
        // DotNext asks IHttpMessageHandlerFactory for its "raftClient" handler: a short connect timeout so a dead
        // peer is noticed within an election timeout, not the OS's.
        // The handler trusts the cluster's CA file for https:// peers; PeerSigner signs every Raft request.
        var caFile = cluster.CaFilePath;
        var raftClient = services.AddHttpClient("raftClient").ConfigurePrimaryHttpMessageHandler(() =>
        {
            var handler = Contract.TrustedCertificates.Handler(caFile, TimeSpan.FromMilliseconds(cluster.ElectionTimeoutLowerMs));
            handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30);
            return handler;
        });
        // Per-type deadlines (votes, appends) outermost, so they also bound the signing and the connection.
        services.AddSingleton<PeerContacts>();
        services.AddSingleton<ReplicationProgress>();
        // A silent peer's liveness probe: its own client (not the Raft chain), the Raft client's connect timeout and CA,
        // and an answer within the longer of the vote and heartbeat deadlines.
        services.AddHttpClient(SilentPeers.ProbeClientName)
            .ConfigurePrimaryHttpMessageHandler(() => Contract.TrustedCertificates.Handler(caFile, TimeSpan.FromMilliseconds(cluster.ElectionTimeoutLowerMs)));
        var probeTimeout = TimeSpan.FromMilliseconds(Math.Max(50, Math.Max(cluster.RaftVoteTimeoutMs, cluster.RaftHeartbeatTimeoutMs)));
        if (cluster.SilentPeerProbeMs > 0)
        {
            services.AddSingleton(sp => new SilentPeers(
                SilentPeers.HttpProbe(sp.GetRequiredService<IHttpClientFactory>(), probeTimeout), TimeSpan.FromMilliseconds(cluster.SilentPeerProbeMs),
                TimeProvider.System, sp.GetRequiredService<ILogger<SilentPeers>>()));
        }
        raftClient.AddHttpMessageHandler(sp => new RaftDeadlines(
            TimeSpan.FromMilliseconds(cluster.RaftVoteTimeoutMs), TimeSpan.FromMilliseconds(cluster.RaftHeartbeatTimeoutMs),
            TimeSpan.FromMilliseconds(cluster.RaftAppendTimeoutMs), sp.GetRequiredService<PeerContacts>(), sp.GetService<SilentPeers>()));
        raftClient.AddHttpMessageHandler(sp => new ReplicationProgress.Handler(sp.GetRequiredService<ReplicationProgress>()));
        raftClient.AddHttpMessageHandler(sp => new PreVoteHold.CampaignNotes(sp.GetRequiredService<PreVoteHold>()));
        Security.SecurityStartup.Configure(builder, settings, raftClient);
        services.ConfigureCluster<ClusterLifetime>();
        services.UsePersistentConfigurationStorage(settings.MembershipFile);
        services.AddSingleton<MemberDirectory>();
        services.AddSingleton(sp => PreVoteHold.For(sp, cluster, NodeSettings.AddressKey(settings.Self.Uri)));

        // What UseStateMachine<T>(options) registers, with our log type in place of WriteAheadLog.
        var walOptions = new WriteAheadLog.Options
        {
            Location = settings.WalDirectory,
            ChunkSize = cluster.LogChunkSizeMiB * 1024 * 1024,
            MemoryManagement = cluster.LogMemory == "shared" ? WriteAheadLog.MemoryManagementStrategy.SharedMemory : WriteAheadLog.MemoryManagementStrategy.PrivateMemory,
        };
        services.AddSingleton(new ReplicatedState(settings.Cluster.RetainedEvents));
        services.AddSingleton(sp => new MallStateHost(sp.GetRequiredService<ReplicatedState>(), settings, sp.GetRequiredService<ILogger<MallStateHost>>(),
            ApplyTrace.Open(builder.Configuration, settings)));
        services.AddSingleton<IStateMachine>(sp => sp.GetRequiredService<MallStateHost>());
        services.AddSingleton(sp => new DurableWriteAheadLog(walOptions, sp.GetRequiredService<IStateMachine>(), cluster.DurableFollowerAppends,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<DurableWriteAheadLog>()));
        services.AddSingleton<IPersistentState>(sp => sp.GetRequiredService<DurableWriteAheadLog>());
        services.AddSingleton<DotNext.IO.Log.IAuditTrail<IRaftLogEntry>>(sp => sp.GetRequiredService<DurableWriteAheadLog>());
        builder.JoinCluster();
        services.AddHostedService<LeaderQuorumCheck>();
        services.AddSingleton<RaftConsensus>();
        services.AddSingleton<IConsensus>(sp => sp.GetRequiredService<RaftConsensus>());
    }

    /// <summary>
    /// Restores the newest intact snapshot before anything touches the log (otherwise the whole log would be replayed),
    /// and flushes the log on a graceful stop (DisposeAsync of the log does not flush) so a restart trusts everything.
    /// </summary>
    public static async Task StartRaftStateAsync(this WebApplication app, ILogger logger, NodeSettings settings)
    {
        SnapshotFiles.UseTemporaryDirectoryBeside(settings);
        SnapshotFiles.SetAsideTorn(settings, logger);
        var seed = await ConfigurationSeed.SeedAsync(settings, logger, CancellationToken.None).ConfigureAwait(false);
        // Identity before the cluster starts: a data directory that predates it (a configuration, or a round-1 log)
        // migrates now; a joining node gets one only when a leader adds it.
        app.Services.GetRequiredService<Security.NodeIdentity>().Establish(
            bootstrap: seed == ConfigurationSeed.Outcome.Seeded,
            migrating: seed is ConfigurationSeed.Outcome.Migrated or ConfigurationSeed.Outcome.Kept);
        await app.Services.GetRequiredService<MallStateHost>().RestoreAsync(CancellationToken.None).ConfigureAwait(false);
        var log = app.Services.GetRequiredService<DurableWriteAheadLog>();
        log.CommitBound = LeaderCommitBound(app.Services.GetRequiredService<IRaftCluster>(), app.Services.GetRequiredService<ReplicationProgress>());
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            log.FlushAsync(CancellationToken.None).Wait(TimeSpan.FromSeconds(5));
            NodeStartup.LogStopping(logger, settings.NodeId, log.LastEntryIndex);
        });
    }

    /// <summary>
    /// The leader's commits held to what a majority confirmed in its term (<see cref="ReplicationProgress"/>). Every
    /// commit outside a follower's AppendEntries is a leader round's, also one that ends after its leader stepped down
    /// (found by <c>raftmall verify --nodes 5 --seed 36</c>): in a term this node did not lead nothing is confirmed.
    /// </summary>
    private static Func<long, long> LeaderCommitBound(IRaftCluster cluster, ReplicationProgress progress) => index =>
    {
        var members = cluster.Members;
        return progress.SafeCommitIndex(cluster.Term, index, members.Count,
            members.Where(m => m.IsRemote).Select(m => MemberDirectory.AddressOf(m.EndPoint)?.Authority ?? "?"));
    };

    /// <summary>
    /// DotNext's Raft endpoint (after peer authentication, which must see Raft requests first), with
    /// <see cref="ReadIndexRound"/> in front so that followers' reads are confirmed by a quorum.
    /// <c>RaftMall:UnsafeFollowerReads=true</c> leaves it out: followers then read what the leader believes is
    /// committed, which is stale when that leader has been cut off. It exists only so that a test can show
    /// <c>raftmall verify</c> catching such reads.
    /// <see cref="CommittedPrefixMatch"/> lets a follower whose snapshot is ahead of the leader's view catch up;
    /// <c>RaftMall:UnpatchedCatchUp=true</c> leaves it out, only to show a test failing without it.
    /// <see cref="PreVoteHold"/> answers a candidate's pre-vote once this node's election timer has run out, not a few
    /// milliseconds before; <c>RaftMall:PlainPreVote=true</c> leaves it out (to measure failover without it).
    /// </summary>
    public static void UseRaftProtocol(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>(UnsafeFollowerReadsKey)) LogUnsafeFollowerReads(app.Logger);
        else app.UseMiddleware<ReadIndexRound>();
        if (app.Configuration.GetValue<bool>(UnpatchedCatchUpKey)) LogUnpatchedCatchUp(app.Logger);
        else app.UseMiddleware<CommittedPrefixMatch>();
        app.Use(async (context, next) =>
        {
            if (!RaftHeaders.IsAppendEntries(context.Request))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            using (DurableWriteAheadLog.FollowerAppend()) await next(context).ConfigureAwait(false);
        });
        if (app.Configuration.GetValue<bool>(PlainPreVoteKey)) LogPlainPreVote(app.Logger);
        else app.UseMiddleware<PreVoteHold.Middleware>();
        app.UseConsensusProtocolHandler();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RaftMall:PlainPreVote=true: pre-votes are answered by DotNext alone, a failover may take two election timeouts")]
    private static partial void LogPlainPreVote(ILogger logger);

    /// <summary>Configuration key that turns <see cref="PreVoteHold"/> off (measurements only).</summary>
    public const string PlainPreVoteKey = "RaftMall:PlainPreVote";

    [LoggerMessage(Level = LogLevel.Warning, Message = "RaftMall:UnpatchedCatchUp=true: a follower whose snapshot is ahead of the leader's view of it can stall (DotNext's own check)")]
    private static partial void LogUnpatchedCatchUp(ILogger logger);

    /// <summary>Configuration key that turns <see cref="CommittedPrefixMatch"/> off (tests only).</summary>
    public const string UnpatchedCatchUpKey = "RaftMall:UnpatchedCatchUp";

    [LoggerMessage(Level = LogLevel.Warning, Message = "UNSAFE (RaftMall:UnsafeFollowerReads=true): a follower's linearizable read is not confirmed by a quorum and can be stale")]
    private static partial void LogUnsafeFollowerReads(ILogger logger);

    /// <summary>Configuration key that turns <see cref="ReadIndexRound"/> off (tests only).</summary>
    public const string UnsafeFollowerReadsKey = "RaftMall:UnsafeFollowerReads";
}
