namespace RaftMall.Node.Drivers;

/// <summary>Registers the transaction coordinator: driver, participant client, command batcher, waiters.</summary>
public static class TransactionServices
{
    public static void Add(IServiceCollection services, NodeSettings settings)
    {
        services.AddSingleton<ParticipantCaller>();
        services.AddSingleton<TransactionWaiters>();
        services.AddSingleton<CommandBatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<CommandBatcher>());
        services.AddSingleton<TransactionDriver>();
        services.AddHostedService(sp => sp.GetRequiredService<TransactionDriver>());
        // Participant calls: pooled keep-alive connections (one per call in flight, reused), a short connect timeout
        // so a dead participant fails fast, and no client-wide timeout: every call carries its own.
        services.AddHttpClient(ParticipantCaller.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                MaxConnectionsPerServer = settings.Cluster.TxnMaxCallsPerParticipant,
                ConnectTimeout = TimeSpan.FromMilliseconds(Math.Min(2_000, settings.Cluster.TxnCallTimeoutMs)),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AllowAutoRedirect = false,
                UseProxy = false,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan); // one pool for the node's life: connections are reused
    }
}
