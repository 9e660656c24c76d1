using System.Text.Json;
using System.Text.Json.Serialization;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RaftMall.Client;
using RaftMall.Client.Participants;
using RaftMall.Samples.LoyaltyPoints;

// A loyalty-points TCC participant (docs/participants.md). Options: --urls http://127.0.0.1:7201 (ASP.NET Core's),
// --data-dir <directory for journal.log> (default ./points-data), --enable-test-control (tests only).
const string TestControlFlag = "--enable-test-control";
var testControlEnabled = args.Contains(TestControlFlag);
var builder = WebApplication.CreateSlimBuilder([.. args.Where(a => a != TestControlFlag)]);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
// Traces: each call of the coordinator continues its trace (the span of the participant call is this request's parent).
if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
{
    builder.Services.AddOpenTelemetry()
        .ConfigureResource(r => r.AddService("loyalty-points"))
        .WithTracing(t => t.AddAspNetCoreInstrumentation())
        .UseOtlpExporter();
}
var dataDirectory = Path.GetFullPath(builder.Configuration["data-dir"] ?? builder.Configuration["DataDir"] ?? "points-data");

await using var journal = new PointsJournal(dataDirectory);
// The journal is the barrier's store; the barrier is registered as a singleton over it (docs/dotnet.md).
builder.Services.AddSingleton<IBarrierStore<PointsTransaction>>(journal);
builder.Services.AddRaftMallParticipantBarrier<PointsJournal, PointsTransaction>();
var control = testControlEnabled ? new TestControl() : null;

var app = builder.Build();
app.MapPointsEndpoints(journal, app.Services.GetRequiredService<ParticipantBarrier<PointsTransaction>>(), control);
if (control is not null) app.MapTestControlEndpoints(control);

app.Logger.LogWarning("loyalty points: journal {Path} ({Lines} lines replayed){TestControl}",
    journal.Path, journal.LinesReplayed, control is null ? "" : ", test control ENABLED");
await app.RunAsync();
