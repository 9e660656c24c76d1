using BenchmarkDotNet.Attributes;
using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine.Benchmarks;

/// <summary>Snapshot and restore of a state with one million orders.</summary>
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    private MallStateMachine _state = null!;
    private byte[] _snapshot = [];
    private readonly ByteWriter _writer = new(64 * 1024 * 1024);

    [Params(1_000_000)]
    public int Orders { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _state = Workloads.StateWithOrders(Orders);
        _snapshot = _state.Snapshot();
    }

    [Benchmark]
    public int Snapshot()
    {
        _state.WriteSnapshot(_writer);
        return _writer.Length;
    }

    [Benchmark]
    public int Restore() => MallStateMachine.Restore(_snapshot).OrderCount;
}
