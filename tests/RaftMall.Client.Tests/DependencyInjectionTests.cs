using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RaftMall.Client.Participants;
using RaftMall.Client.Tests.Participants;

namespace RaftMall.Client.Tests;

/// <summary>
/// <c>services.AddRaftMallClient(...)</c> in-process: options checked at start, transient clients that share the
/// leader hint, the user's own handlers on every attempt, retries and leader changes logged. The nodes are a fake
/// handler here; <c>PackageTests</c> places an order on a real cluster through the registered client.
/// </summary>
public class DependencyInjectionTests
{
    [Fact]
    public void Options_are_checked_at_start_and_every_problem_is_named()
    {
        var services = new ServiceCollection();
        services.AddRaftMallClient(o =>
        {
            o.Endpoints = [new Uri("ftp://127.0.0.1:5001"), new Uri("http://127.0.0.1:5002/api")];
            o.AttemptTimeout = TimeSpan.Zero;
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(error.Failures, f => f.Contains("ftp://127.0.0.1:5001", StringComparison.Ordinal) && f.Contains("absolute http://", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("has a path", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("AttemptTimeout must be positive", StringComparison.Ordinal));
    }

    [Fact]
    public void The_constructor_refuses_the_same_options()
    {
        var error = Assert.Throws<ArgumentException>(() => new RaftMallClient(new RaftMallClientOptions()));
        Assert.Contains("at least one endpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transient_clients_share_the_leader_hint_and_run_the_users_handlers()
    {
        var nodes = new FakeNodes(leader: "http://127.0.0.1:5002");
        var logs = new ListLogger();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerProvider>(logs);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug));
        services.AddRaftMallClient(o =>
        {
            o.Endpoints = [new Uri("http://127.0.0.1:5001"), new Uri("http://127.0.0.1:5002")];
            o.ApiKey = "writer-key";
        })
            .AddHttpMessageHandler(() => new StampHandler())
            .ConfigurePrimaryHttpMessageHandler(() => nodes);
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var first = provider.GetRequiredService<RaftMallClient>();
        var second = provider.GetRequiredService<RaftMallClient>();
        Assert.NotSame(first, second);

        await first.SetStockAsync("apple", 5);  // to 5001, which forwards and names 5002 as the leader
        await second.SetStockAsync("apple", 6); // a new instance goes to 5002 straight away

        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], nodes.Hosts);
        Assert.All(nodes.Stamps, s => Assert.Equal("yes", s));
        Assert.All(nodes.Authorizations, a => Assert.Equal("Bearer writer-key", a));
        Assert.Contains(logs.Lines, l => l.Contains("leader is now http://127.0.0.1:5002", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_retry_after_a_503_is_logged_and_keeps_its_idempotency_key()
    {
        var nodes = new FakeNodes(leader: "http://127.0.0.1:5001") { UnavailableFirst = 2 };
        var logs = new ListLogger();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerProvider>(logs);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug));
        services.AddRaftMallClient(o => o.Endpoints = [new Uri("http://127.0.0.1:5001")]).ConfigurePrimaryHttpMessageHandler(() => nodes);
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<RaftMallClient>().SetStockAsync("apple", 5);

        Assert.Equal(3, nodes.Hosts.Count);
        Assert.Single(nodes.IdempotencyKeys.Distinct());
        Assert.Equal(2, logs.Lines.Count(l => l.Contains("no_leader; retrying", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_participant_barrier_is_one_singleton_over_the_registered_store()
    {
        var services = new ServiceCollection();
        services.AddRaftMallParticipantBarrier<PointsStore, PointsStore.Transaction>();
        using var provider = services.BuildServiceProvider();

        var barrier = provider.GetRequiredService<ParticipantBarrier<PointsStore.Transaction>>();
        Assert.Same(barrier, provider.GetRequiredService<ParticipantBarrier<PointsStore.Transaction>>());
        Assert.IsType<PointsStore>(provider.GetRequiredService<IBarrierStore<PointsStore.Transaction>>());
    }

    /// <summary>Two nodes in a handler: answers a stock write, naming <c>leader</c> in RaftMall-Leader; records what it was sent.</summary>
    private sealed class FakeNodes(string leader) : HttpMessageHandler
    {
        public int UnavailableFirst { get; init; }

        public List<string> Hosts { get; } = [];

        public List<string?> Stamps { get; } = [];

        public List<string?> Authorizations { get; } = [];

        public List<string?> IdempotencyKeys { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Hosts)
            {
                Hosts.Add(request.RequestUri!.Authority);
                Stamps.Add(request.Headers.TryGetValues("X-Stamp", out var stamp) ? stamp.Single() : null);
                Authorizations.Add(request.Headers.Authorization?.ToString());
                IdempotencyKeys.Add(request.Headers.TryGetValues(RaftMallHeaders.IdempotencyKey, out var key) ? key.Single() : null);
                var response = Hosts.Count <= UnavailableFirst
                    ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                    {
                        Content = new StringContent("""{"status":503,"code":"no_leader","detail":"no leader yet"}""", Encoding.UTF8, "application/problem+json"),
                    }
                    : new HttpResponseMessage(HttpStatusCode.OK)
                    {
                        Content = new StringContent("""{"sku":"apple","available":5,"locked":0,"sold":0}""", Encoding.UTF8, "application/json"),
                    };
                response.Headers.Add(RaftMallHeaders.Leader, leader);
                return Task.FromResult(response);
            }
        }
    }

    /// <summary>A user's own handler: stamps every request.</summary>
    private sealed class StampHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add("X-Stamp", "yes");
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class ListLogger : ILoggerProvider, ILogger
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add(formatter(state, exception));
        }

        public void Dispose()
        {
        }
    }
}
