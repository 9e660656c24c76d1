using RaftMall.Node.Observability;

namespace RaftMall.Node.InProcessTests;

/// <summary>What the stall watch reports from one look: a stall from 100 ms on, with the GC's share bounded by it.</summary>
public sealed class StallWatchTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_probe_late_by_less_than_the_threshold_is_no_stall()
    {
        Assert.Null(StallWatch.Judge("process", Ms(99.9), Ms(50)));
        Assert.Null(StallWatch.Judge("process", Ms(-1), TimeSpan.Zero));
    }

    [Fact]
    public void A_stall_reports_its_length_and_how_much_of_it_the_collector_paused()
    {
        Assert.Equal(new StallWatch.Stall("thread pool", Ms(250), Ms(180)), StallWatch.Judge("thread pool", Ms(250), Ms(180)));
        // Pauses that began before the look are counted in full by the runtime: never more than the stall itself.
        Assert.Equal(Ms(120), StallWatch.Judge("process", Ms(120), Ms(300))!.GcPause);
        Assert.Equal(TimeSpan.Zero, StallWatch.Judge("process", Ms(120), Ms(-1))!.GcPause);
    }
}
