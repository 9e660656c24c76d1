using RaftMall.Samples.StockConsumer;

// A stock service as a push subscriber (docs/messages.md): RaftMall's leader POSTs batches of "deduct stock" messages
// to /deliveries; each is applied once through the dedup helper, in the service's own durable ledger.
// Options: --urls http://127.0.0.1:7301 (ASP.NET Core's), --data-dir <directory for ledger.jsonl> (default ./stock-data).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var dataDirectory = Path.GetFullPath(builder.Configuration["data-dir"] ?? builder.Configuration["DataDir"] ?? "stock-data");

using var ledger = new StockLedger(dataDirectory);
var app = builder.Build();
app.MapDeliveryEndpoints(ledger);

app.Logger.LogWarning("stock consumer: ledger {Path} ({Lines} lines replayed)", ledger.Path, ledger.LinesReplayed);
await app.RunAsync();
