using System.Text.Json;
using System.Text.Json.Serialization;
using RaftMall.Client.Participants;
using RaftMall.Samples.LoyaltyPoints;

// A loyalty-points TCC participant (docs/participants.md). Options: --urls http://127.0.0.1:7201 (ASP.NET Core's),
// --data-dir <directory for journal.log> (default ./points-data), --enable-test-control (tests only).
const string TestControlFlag = "--enable-test-control";
var testControlEnabled = args.Contains(TestControlFlag);
var builder = WebApplication.CreateSlimBuilder([.. args.Where(a => a != TestControlFlag)]);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
var dataDirectory = Path.GetFullPath(builder.Configuration["data-dir"] ?? builder.Configuration["DataDir"] ?? "points-data");

await using var journal = new PointsJournal(dataDirectory);
var barrier = new ParticipantBarrier<PointsTransaction>(journal);
var control = testControlEnabled ? new TestControl() : null;

var app = builder.Build();
app.MapPointsEndpoints(journal, barrier, control);
if (control is not null) app.MapTestControlEndpoints(control);

app.Logger.LogWarning("loyalty points: journal {Path} ({Lines} lines replayed){TestControl}",
    journal.Path, journal.LinesReplayed, control is null ? "" : ", test control ENABLED");
await app.RunAsync();
