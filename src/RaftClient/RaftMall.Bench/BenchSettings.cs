namespace RaftMall.Bench;

/// <summary>One load run: the workload, how many clients, for how long, over which keys.</summary>
public sealed record BenchSettings(
    BenchWorkload Workload,
    int Clients,
    TimeSpan Duration,
    TimeSpan Warmup,
    long Keys,
    int ValueSize,
    bool LeaderOnly,
    TimeSpan RequestTimeout)
{
    public const long MinimumKeys = 100_000;
    public const int MaximumClients = 4_096;
    public const int MaximumValueSize = 65_536;

    /// <summary>A value of the requested size (printable, so both systems store the same bytes).</summary>
    public static string Value(int size) => new('v', size);

    public static string Name(BenchWorkload workload) => workload switch
    {
        BenchWorkload.Orders => "orders",
        BenchWorkload.KvPut => "kv-put",
        BenchWorkload.KvGet => "kv-get",
        _ => throw new ArgumentOutOfRangeException(nameof(workload)),
    };

    public static BenchWorkload ParseWorkload(string text) => text switch
    {
        "orders" => BenchWorkload.Orders,
        "kv-put" => BenchWorkload.KvPut,
        "kv-get" => BenchWorkload.KvGet,
        _ => throw new BenchException($"unknown workload '{text}': choose orders, kv-put or kv-get", usage: true),
    };

    /// <summary>Durations as "30s", "2m", "500ms" or a plain number of seconds.</summary>
    public static TimeSpan ParseDuration(string text, string option)
    {
        static bool Number(string s, out double value) =>
            double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value) && value >= 0;
        var trimmed = text.Trim();
        if (trimmed.EndsWith("ms", StringComparison.Ordinal) && Number(trimmed[..^2], out var ms)) return TimeSpan.FromMilliseconds(ms);
        if (trimmed.EndsWith('s') && Number(trimmed[..^1], out var s)) return TimeSpan.FromSeconds(s);
        if (trimmed.EndsWith('m') && Number(trimmed[..^1], out var m)) return TimeSpan.FromMinutes(m);
        if (Number(trimmed, out var plain)) return TimeSpan.FromSeconds(plain);
        throw new BenchException($"{option}: '{text}' is not a duration (examples: 30s, 2m, 500ms)", usage: true);
    }
}
