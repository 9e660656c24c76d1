using RaftMall.Node.Consensus;

namespace RaftMall.Node.InProcessTests;

/// <summary>EventApplyTimes: which applied entry emitted an event, within its bound, and nothing for what it never saw.</summary>
public sealed class EventApplyTimesTests
{
    [Fact]
    public void An_event_gets_the_time_of_the_entry_that_emitted_it_and_unknown_sequences_get_none()
    {
        var times = new EventApplyTimes();
        Assert.Null(times.AppliedAt(1));
        times.Note(101, 105, timestamp: 1_000); // a restored snapshot held events 1..100
        times.Note(106, 106, timestamp: 2_000);
        times.Note(107, 140, timestamp: 3_000);

        Assert.Null(times.AppliedAt(100)); // applied elsewhere, before this node's first noted entry
        Assert.Equal(1_000, times.AppliedAt(101));
        Assert.Equal(1_000, times.AppliedAt(105));
        Assert.Equal(2_000, times.AppliedAt(106));
        Assert.Equal(3_000, times.AppliedAt(107));
        Assert.Equal(3_000, times.AppliedAt(140));
        Assert.Null(times.AppliedAt(141)); // not applied yet

        times.Clear();
        Assert.Null(times.AppliedAt(106));
    }

    [Fact]
    public void Past_its_capacity_it_forgets_the_oldest_entries_only()
    {
        var times = new EventApplyTimes();
        var entries = EventApplyTimes.Capacity + 10;
        for (var n = 0; n < entries; n++) times.Note(first: (2 * n) + 1, last: (2 * n) + 2, timestamp: n); // two events per entry

        Assert.Null(times.AppliedAt(1));
        Assert.Null(times.AppliedAt(20)); // entry 9, overwritten
        Assert.Equal(10, times.AppliedAt(21)); // entry 10, the oldest kept
        Assert.Equal(entries - 1, times.AppliedAt((2 * entries) - 1));
        Assert.Equal(entries - 1, times.AppliedAt(2 * entries));
        Assert.Null(times.AppliedAt((2 * entries) + 1));
    }
}
