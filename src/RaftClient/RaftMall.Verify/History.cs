using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaftMall.Verify;

/// <summary>How an operation ended: it took effect (ok), it certainly did not (fail), or nobody knows (unknown, e.g. a timeout).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Outcome>))]
public enum Outcome
{
    Ok,
    Fail,
    Unknown,
}

/// <summary>
/// One recorded operation: who invoked what, when (monotonic nanoseconds since the run started), and what came back.
/// For kv operations <see cref="Key"/> is set; <see cref="Value"/> is the written value (write, cas) or the value read
/// (read; null when the key did not exist); <see cref="Expected"/> is the value a cas expects (null: key must not exist);
/// <see cref="Succeeded"/> is whether a completed cas took effect.
/// <see cref="Detail"/> says more: the node that served a read, the user and lines of a place.
/// </summary>
public sealed record Operation
{
    public required int Process { get; init; }
    public required string Kind { get; init; }
    public string? Key { get; init; }
    public string? Value { get; init; }
    public string? Expected { get; init; }
    public bool? Succeeded { get; init; }
    public long? OrderId { get; init; }

    /// <summary>For an acknowledged publish: the message's sequence in the outbox.</summary>
    public long? Sequence { get; init; }
    public string? Detail { get; init; }
    public required long InvokeNs { get; init; }
    public long CompleteNs { get; init; }
    public Outcome Outcome { get; init; }
}

/// <summary>Operation kinds.</summary>
public static class Kinds
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Cas = "cas";
    public const string Place = "place";
    public const string Pay = "pay";
    public const string Cancel = "cancel";
    public const string Token = "token";
    public const string Publish = "publish";
}

/// <summary>Appends operations as JSON lines, one file per run; thread-safe.</summary>
public sealed class HistoryWriter(string path) : IDisposable
{
    public static readonly JsonSerializerOptions Json = VerifyJsonContext.Default.Options;
    private readonly StreamWriter _writer = new(path, append: false);
    private readonly List<Operation> _operations = [];

    public IReadOnlyList<Operation> Operations
    {
        get
        {
            lock (_operations) return [.. _operations];
        }
    }

    public void Record(Operation operation)
    {
        var line = JsonSerializer.Serialize(operation, VerifyJsonContext.Default.Operation);
        lock (_operations)
        {
            _operations.Add(operation);
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_operations) _writer.Dispose();
    }

    public static List<Operation> Load(string path) =>
        [.. File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize(l, VerifyJsonContext.Default.Operation)!)];
}

/// <summary>Source-generated JSON for the history lines and the report (web defaults, nulls left out; no reflection).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Operation))]
[JsonSerializable(typeof(VerifyReport))]
[JsonSerializable(typeof(Dictionary<string, int>))]
public sealed partial class VerifyJsonContext : JsonSerializerContext;
