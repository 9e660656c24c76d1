using System.Buffers;
using System.Globalization;
using System.IO.Hashing;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// A diagnostic record of every log entry this replica gave its state machine, one line each, appended to
/// <c>apply-trace.log</c> in the data directory: <c>index term hash</c> for a command (XxHash64 of the entry's bytes),
/// <c>index term -</c> for an entry without one, <c>index ? passed</c> for an entry the log never handed over (DotNext
/// passes over entries without payload: no-ops, membership changes), <c>restore index term</c> when a snapshot
/// replaced the state. Replicas
/// that agree write the same line for every index; the first index where two differ is where a divergence began.
/// Off unless <c>RaftMall:ApplyTrace=true</c> (<c>raftmall verify</c> turns it on); each line is written through at
/// once, so a killed node loses none it applied.
/// </summary>
public sealed class ApplyTrace : IDisposable
{
    public const string Key = "RaftMall:ApplyTrace";

    public const string FileName = "apply-trace.log";

    private readonly StreamWriter _writer;

    private ApplyTrace(string path)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    /// <summary>The trace of this node when the configuration asks for one, otherwise null.</summary>
    public static ApplyTrace? Open(IConfiguration configuration, NodeSettings settings)
    {
        if (!configuration.GetValue<bool>(Key)) return null;
        Directory.CreateDirectory(settings.DataDirectory);
        return new ApplyTrace(Path.Combine(settings.DataDirectory, FileName));
    }

    public void Command(long index, long term, in ReadOnlySequence<byte> payload)
    {
        var hash = new XxHash64();
        foreach (var segment in payload) hash.Append(segment.Span);
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index} {term} {hash.GetCurrentHashAsUInt64():x16}"));
    }

    public void NoCommand(long index, long term) => _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index} {term} -"));

    public void PassedOver(long from, long to)
    {
        for (var index = from; index <= to; index++) _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index} ? passed"));
    }

    public void Restored(long index, long term) => _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restore {index} {term}"));

    public void Dispose() => _writer.Dispose();
}
