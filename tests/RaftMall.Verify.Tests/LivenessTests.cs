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
    public void A_window_counts_the_most_nodes_impaired_at_once_and_single_fault_windows_leave_out_the_rest()
    {
        // n1 killed at 1.0 and answering again at 2.0; n2 frozen at 1.5 (overlapping n1's restart) until 3.0; every node
        // down from 5.0 to 6.0; n3 cut off from 7.0 to 7.5.
        Impairment Down(double at, string node) => new(at, node, true);
        Impairment Up(double at, string node) => new(at, node, false);
        var impairments = new[]
        {
            Down(1.0, "n1"), Down(1.5, "n2"), Up(2.0, "n1"), Up(3.0, "n2"),
            Down(5.0, "n1"), Down(5.0, "n2"), Down(5.0, "n3"), Up(6.0, "n1"), Up(6.0, "n2"), Up(6.0, "n3"),
            Down(7.0, "n3"), Up(7.5, "n3"),
        };
        Assert.Equal(2, Liveness.MostImpaired(impairments, 0.5, 2.5));
        Assert.Equal(1, Liveness.MostImpaired(impairments, 2.1, 4.0)); // as it stood when the window opened: n2
        Assert.Equal(3, Liveness.MostImpaired(impairments, 4.0, 6.5));
        Assert.Equal(1, Liveness.MostImpaired(impairments, 7.2, 8.0));
        Assert.Equal(0, Liveness.MostImpaired(impairments, 3.5, 4.9));

        double[] acks = [0.5, 2.5, 4.0, 6.5, 7.1, 8.4, 9.0];
        var all = Liveness.LongestGaps(acks, 0.0, 9.0, [], count: 10, impairments: impairments);
        Assert.Equal([(4.0, 6.5, 3), (0.5, 2.5, 2), (2.5, 4.0, 1)], all.Take(3).Select(g => (g.FromSeconds, g.ToSeconds, g.MostNodesImpaired)));
        var single = Liveness.LongestGaps(acks, 0.0, 9.0, [], count: 2, impairments: impairments, singleFault: true);
        Assert.Equal([(2.5, 4.0), (7.1, 8.4)], single.Select(g => (g.FromSeconds, g.ToSeconds)).Order());
    }

    [Fact]
    public void The_last_window_ends_when_the_load_stopped_not_when_a_held_operation_finished()
    {
        var history = new[] { Ack(Kinds.Write, 0.0, 1.0), Ack(Kinds.Write, 1.2, 1.5), Ack(Kinds.Write, 2.9, 6.0) }; // the last one was held 3 s
        Assert.Equal([(1.5, 3.0)], Liveness.LongestWriteGaps(history, [], count: 1, loadEnd: 3.0).Select(g => (g.FromSeconds, g.ToSeconds)));
        Assert.Equal([(1.5, 6.0)], Liveness.LongestWriteGaps(history, [], count: 1).Select(g => (g.FromSeconds, g.ToSeconds)));
    }

    [Fact]
    public void No_history_has_no_windows() => Assert.Empty(Liveness.LongestWriteGaps([], []));
}
