using RaftMall.Node;
using RaftMall.Node.Api;
using RaftMall.Node.Consensus;
using RaftMall.Node.Consensus.Raft;
using RaftMall.Node.Dashboard;
using RaftMall.Node.Demo;
using RaftMall.Node.Drivers;
using RaftMall.Node.Observability;
using RaftMall.Node.Security;

const string usage = """
    RaftMall node: one member of a Raft cluster described by cluster.yml.

    Usage: dotnet run --project src/RaftNode -- --node <id> [--config <cluster.yml>] [--RaftMall:<setting>=<value> ...]

      --node <id>          this node's id in the cluster file (or env RaftMall__Node)
      --config <path>      the cluster file (default: ./cluster.yml, searched upwards; or env RaftMall__Config)
      --RaftMall:<key>=<v> override a cluster-file setting, e.g. --RaftMall:SnapshotIntervalEntries=100,
                           --RaftMall:DataDirectory=/var/lib/raftmall; env RaftMall__<key> works too
      --RaftMall:Listen=<url>  listen on another address than the node's own (e.g. http://0.0.0.0:7101 in a container)

      --RaftMall:Demo:Enabled=true  the dashboard's demo controls (kill a node, start one, a stream of orders); off by default

    Dashboard: / . API: /api/... (see /openapi/v1.json), health: /health/live and /health/ready.
    """;

if (args.Any(a => a is "--help" or "-h" or "-?"))
{
    Console.WriteLine(usage);
    return 0;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
// The console format comes from configuration (appsettings.json: one line per event with a UTC timestamp;
// Logging__Console__FormatterName=json for JSON lines). Per-request and per-RPC logs of ASP.NET Core, HttpClient and
// DotNext are off by default: at thousands of requests per second they would cost more than the requests.
NodeSettings settings;
try
{
    settings = NodeStartup.LoadSettings(builder.Configuration);
    Directory.CreateDirectory(settings.DataDirectory);
    builder.AddRaftConsensus(settings);
    builder.AddObservability(settings);
}
catch (ClusterFileException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}\n\n{usage}");
    return 2;
}

var services = builder.Services;
services.AddSingleton(settings);
services.AddSingleton(TimeProvider.System);
services.AddSingleton<Proposer>();
services.AddSingleton<WriteBatcher>();
services.AddHostedService(sp => sp.GetRequiredService<WriteBatcher>());
services.AddSingleton<Gateway>();
services.AddHostedService<ExpiryDriver>();
services.AddHostedService<StateCheckDriver>();
services.AddHostedService<IdentityBinder>();
services.AddHostedService<RaftMall.Node.Observability.StallWatch>();
services.AddHostedService<RaftMall.Node.Observability.BackgroundGcKeeper>();
TransactionServices.Add(services, settings);
SubscriptionDriver.AddServices(services);
// A forwarded membership change may take the leader up to MemberEndpoints.ChangeTimeout (catching a new node up).
services.AddHttpClient(LeaderForwarding.ClientName, c => c.Timeout = TimeSpan.FromMilliseconds(
    Math.Max(settings.Cluster.LeaderWaitMs + settings.Cluster.WriteTimeoutMs, MemberEndpoints.ChangeTimeout.TotalMilliseconds) + 1_000));
services.AddHttpClient(MemberEndpoints.ProbeClientName, c => c.Timeout = TimeSpan.FromSeconds(2))
    .ConfigurePrimaryHttpMessageHandler(() => RaftMall.Contract.TrustedCertificates.Handler(settings.Cluster.CaFilePath, TimeSpan.FromSeconds(1)));
services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions.TryAdd("code", Problems.CodeOf(c.ProblemDetails.Status)));
services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
    // As JsonBody reads request bodies: numbers are numbers, unknown fields are refused (so the OpenAPI schemas say the same).
    o.SerializerOptions.NumberHandling = JsonBody.Options.NumberHandling;
    o.SerializerOptions.UnmappedMemberHandling = JsonBody.Options.UnmappedMemberHandling;
});
services.AddOpenApi(o => ApiDocument.Configure(o)); // a lambda: the XML-comment generator intercepts this call form (a method group is not)
services.AddHealthChecks().AddCheck<ReadinessCheck>("raft", tags: ["ready"]);
services.AddCors();
services.AddSingleton<Microsoft.AspNetCore.Cors.Infrastructure.ICorsPolicyProvider, CrossOrigin>();
var demo = DemoOptions.From(builder.Configuration);
services.AddSingleton(demo);
if (demo.Enabled) services.AddDemo(settings.Cluster);

var app = builder.Build();
var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RaftMall.Node");

await app.StartRaftStateAsync(logger, settings);
var status = app.Services.GetRequiredService<IConsensus>().Status();
NodeStartup.LogStarted(logger, settings.NodeId, settings.DataDirectory, status.SnapshotIndex, status.DurableFollowerAppends);
var security = app.Services.GetRequiredService<NodeSecurity>();
NodeStartup.LogSecurity(logger, settings.NodeId, security.Description, settings.Self.Uri.Scheme);

// Order matters: Raft requests are authenticated, then their identity checked, before DotNext sees them; API requests are bounded, then
// authenticated, then rate limited per key, and only then forwarded to the leader or served.
app.UseMiddleware<PeerAuthentication>();
app.UseMiddleware<PeerIdentityCheck>();
app.UseRaftProtocol();
app.UseExceptionHandler();
// Answers the framework makes without a body (unknown route, wrong method, unreadable parameter) become problem+json
// with a code too, whatever the client's Accept says.
app.UseStatusCodePages(context => Problems.Framework(context.HttpContext).ExecuteAsync(context.HttpContext));
// Before authentication: a browser's preflight carries no key (CrossOrigin).
app.UseCors();
app.UseMiddleware<RequestLimits>();
app.UseMiddleware<ClientAuthentication>();
app.UseRateLimiter();
app.UseMiddleware<LeaderForwarding>();
app.MapOpenApi();
app.MapObservability(settings);
if (settings.Cluster.OpenApiUi) ApiDocument.MapInteractivePage(app);
app.MapStock().MapOrders().MapKv().MapEvents().MapClusterStatus().MapMembers().MapTransactions();
app.MapDashboard();
if (demo.Enabled) app.MapDemo(); // without the switch these endpoints do not exist
app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") });
app.MapMessages().MapConsumers().MapSubscriptions();

await app.RunAsync();
return 0;
