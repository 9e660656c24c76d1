namespace RaftMall.Verify.Tests;

/// <summary>The longest windows without an acknowledged write, from a hand-made history and fault timeline.</summary>
public class LivenessTests
{
    private static Operation Ack(string kind, double invokeS, double completeS, Outcome outcome = Outcome.Ok) =>
        new() { Process = 0, Kind = kind, Key = "k", InvokeNs = (long)(invokeS * 1e9), CompleteNs = (long)(completeS * 1e9), Outcome = outcome };

    private static FaultEvent Fault(double at, string what) => new(at, "00:00:00.000", what);

    [Fact]
    public void Windows_are_measured_between_acknowledged_writes_and_name_the_faults_in_effect()
    {
        var history = new[]
        {
            Ack(Kinds.Write, 0.0, 0.1),
            Ack(Kinds.Place, 0.2, 0.3),
            Ack(Kinds.Read, 0.4, 0.5),                       // reads acknowledge no write
            Ack(Kinds.Write, 0.4, 2.6, Outcome.Unknown),     // nor does a write whose outcome is unknown
            Ack(Kinds.Pay, 2.7, 2.8),
            Ack(Kinds.Token, 2.9, 3.0),
            Ack(Kinds.Cancel, 3.1, 3.5),
            Ack(Kinds.Cas, 3.6, 3.7),
            Ack(Kinds.Read, 3.8, 5.0),                       // the load went on, and no write was acknowledged after 3.7 s
        };
        var timeline = new[] { Fault(0.25, "kill -9 n1 (leader)"), Fault(2.0, "restart n1"), Fault(3.2, "SIGSTOP n2 (leader)"), Fault(4.5, "SIGCONT n2") };

        var gaps = Liveness.LongestWriteGaps(history, timeline, count: 3);

        Assert.Equal([(0.3, 2.8), (3.7, 5.0), (3.0, 3.5)], gaps.Select(g => (g.FromSeconds, g.ToSeconds)));
        Assert.Equal(2500, gaps[0].Milliseconds);
        Assert.Equal(["0.250 s kill -9 n1 (leader)", "2.000 s restart n1"], gaps[0].Faults);
        Assert.Equal(["3.200 s SIGSTOP n2 (leader)", "4.500 s SIGCONT n2"], gaps[1].Faults);
        Assert.Equal(["2.000 s restart n1", "3.200 s SIGSTOP n2 (leader)"], gaps[2].Faults);
    }

    [Fact]
    public void Probe_windows_run_from_the_start_between_unordered_acknowledgements_to_the_end()
    {
        var gaps = Liveness.LongestGaps([1.2, 0.5, 0.6, 3.0], start: 0.0, end: 3.5, [Fault(0.7, "kill -9 n1 (leader)")], count: 3);

        Assert.Equal([(1.2, 3.0), (0.6, 1.2), (0.0, 0.5)], gaps.Select(g => (g.FromSeconds, g.ToSeconds)));
        Assert.Equal(["0.700 s kill -9 n1 (leader)"], gaps[0].Faults);
        Assert.Empty(gaps[2].Faults);
    }

    [Fact]
    public void No_history_has_no_windows() => Assert.Empty(Liveness.LongestWriteGaps([], []));
}
