using System.Net.Http.Json;
using System.Text.Json;

namespace RaftMall.Harness;

/// <summary>
/// The sample push subscriber (samples/StockConsumer) as a process on a free 127.0.0.1 port, its ledger and log in its
/// data directory, and a client for its ledger. Used by <c>raftmall demo messages</c> and its test. Disposing kills the
/// process (its data directory stays).
/// </summary>
public sealed class StockConsumerService : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly SampleProcess _process;

    private StockConsumerService(string dll, string dataDirectory, int port)
    {
        Url = new Uri($"http://127.0.0.1:{port}");
        LogPath = Path.Combine(dataDirectory, "consumer.log");
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(10) };
        _process = new SampleProcess(dll, "stock consumer", dataDirectory, LogPath, Url, [], "/ledger");
    }

    public Uri Url { get; }

    /// <summary>Where subscriptions deliver: every subscription to this service names this endpoint.</summary>
    public string DeliveryUrl => new Uri(Url, "/deliveries").ToString();

    public string LogPath { get; }

    public bool IsRunning => _process.IsRunning;

    /// <summary>Starts the service (<paramref name="dll"/>: StockConsumer.dll) and waits until it answers.</summary>
    public static async Task<StockConsumerService> StartAsync(string dll, string dataDirectory, CancellationToken token)
    {
        return await SampleProcess.StartedAsync(new StockConsumerService(dll, dataDirectory, Processes.FreePorts(1)[0]), (started, t) => started.RestartAsync(t), token);
    }

    /// <summary>Starts the process again on the same port and ledger (after <see cref="Kill"/>) and waits until it answers.</summary>
    public Task RestartAsync(CancellationToken token) => _process.StartAsync(_http, token);

    /// <summary>kill -9: lines written but not flushed are lost with the unanswered batch, which the leader sends again.</summary>
    public void Kill() => _process.Kill();

    /// <summary>What each subscription applied, from the service's durable ledger.</summary>
    public async Task<Dictionary<string, ConsumerLedger>> LedgerAsync(CancellationToken token = default)
    {
        using var response = await _http.GetAsync(new Uri("/ledger", UriKind.Relative), token);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(StockConsumerJsonContext.Default.DictionaryStringConsumerLedger, token))!;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One subscription's part of the consumer's ledger: sequences in the order applied, duplicates absorbed, units deducted per sku.</summary>
public sealed record ConsumerLedger(long[] Applied, long Duplicates, Dictionary<string, long> Deducted);

/// <summary>Source-generated JSON for the consumer's ledger (web defaults; no reflection).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, ConsumerLedger>))]
public sealed partial class StockConsumerJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
