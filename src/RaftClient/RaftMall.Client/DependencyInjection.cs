using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RaftMall.Client.Participants;

namespace RaftMall.Client;

/// <summary>Registers RaftMall's client and participant helpers with dependency injection.</summary>
public static class RaftMallServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the registered <see cref="RaftMallClient"/> sends through.</summary>
    public const string HttpClientName = "RaftMall";

    /// <summary>
    /// Registers <see cref="RaftMallClient"/> as a typed client of <c>IHttpClientFactory</c>: inject it where it is
    /// needed (it is transient; the leader hint is shared by every instance). The options are checked when the host
    /// starts (or at the first client, without a host): a wrong endpoint fails there, not at the first order.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets the endpoints, the API key and the timeouts.</param>
    /// <returns>The client's <see cref="IHttpClientBuilder"/>, to add handlers of your own (they run on every attempt).</returns>
    public static IHttpClientBuilder AddRaftMallClient(this IServiceCollection services, Action<RaftMallClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RaftMallClientOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RaftMallClientOptions>, OptionsValidator>());
        services.TryAddSingleton<LeaderHint>();
        return services.AddHttpClient(HttpClientName)
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan) // the client times each attempt itself
            .ConfigurePrimaryHttpMessageHandler(provider => RaftMallClientOptions.DefaultHandler(Options(provider)))
            .AddTypedClient((http, provider) => new RaftMallClient(http, Options(provider), provider.GetRequiredService<LeaderHint>(),
                provider.GetService<ILoggerFactory>()?.CreateLogger<RaftMallClient>() ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
                ownsHttp: false));
    }

    /// <summary>
    /// Registers a <see cref="ParticipantBarrier{TTransaction}"/> (a singleton: it serializes calls on one branch) over
    /// the participant's store <typeparamref name="TStore"/>, which is registered as the singleton
    /// <see cref="IBarrierStore{TTransaction}"/> unless one is registered already.
    /// </summary>
    /// <typeparam name="TStore">The participant's store; constructed by the container.</typeparam>
    /// <typeparam name="TTransaction">The store's local transaction.</typeparam>
    /// <param name="services">The application's services.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddRaftMallParticipantBarrier<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore, TTransaction>(this IServiceCollection services)
        where TStore : class, IBarrierStore<TTransaction>
        where TTransaction : IBarrierTransaction
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IBarrierStore<TTransaction>, TStore>();
        services.TryAddSingleton(provider => new ParticipantBarrier<TTransaction>(provider.GetRequiredService<IBarrierStore<TTransaction>>()));
        return services;
    }

    private static RaftMallClientOptions Options(IServiceProvider provider) => provider.GetRequiredService<IOptions<RaftMallClientOptions>>().Value;

    /// <summary>The same checks as the client's constructor, reported as an <see cref="OptionsValidationException"/>.</summary>
    private sealed class OptionsValidator : IValidateOptions<RaftMallClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, RaftMallClientOptions options)
        {
            var problems = RaftMallClientOptions.Problems(options).Select(p => "RaftMall client: " + p).ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
