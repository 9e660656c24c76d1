using BenchmarkDotNet.Attributes;

namespace RaftMall.StateMachine.Benchmarks;

/// <summary>Apply throughput on one core: the place+pay mix, with and without the codec on the way in.</summary>
[MemoryDiagnoser]
public class ApplyBenchmarks
{
    private const int CommandsPerInvoke = 300_000;
    private MallCommand[] _commands = [];
    private byte[][] _encoded = [];
    private MallStateMachine _state = null!;

    [GlobalSetup]
    public void Setup()
    {
        _commands = Workloads.PlacePayMix(CommandsPerInvoke);
        _encoded = [.. _commands.Select(Codec.CommandCodec.Encode)];
    }

    [IterationSetup]
    public void FreshState() => _state = Workloads.StockedState();

    [Benchmark(OperationsPerInvoke = CommandsPerInvoke)]
    public void ApplyPlacePayMix()
    {
        foreach (var command in _commands) _state.Apply(command);
    }

    [Benchmark(OperationsPerInvoke = CommandsPerInvoke)]
    public void DecodeAndApplyPlacePayMix()
    {
        foreach (var bytes in _encoded) _state.Apply(Codec.CommandCodec.Decode(bytes));
    }
}
