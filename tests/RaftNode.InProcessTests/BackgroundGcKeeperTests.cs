using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using RaftMall.Node.Observability;

namespace RaftMall.Node.InProcessTests;

/// <summary>The keeper starts a background gen2 collection after an interval without one, and never when turned off.</summary>
public sealed class BackgroundGcKeeperTests
{
    private static BackgroundGcKeeper Keeper(string seconds) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [BackgroundGcKeeper.IntervalKey] = seconds }).Build(),
        NullLogger<BackgroundGcKeeper>.Instance);

    [Fact]
    public void A_collection_is_due_once_the_interval_has_passed_since_the_last_gen2()
    {
        var now = Stopwatch.GetTimestamp();
        var interval = TimeSpan.FromSeconds(15);
        Assert.False(BackgroundGcKeeper.Due(now - Stopwatch.Frequency * 14, now, interval));
        Assert.True(BackgroundGcKeeper.Due(now - Stopwatch.Frequency * 15, now, interval));
        Assert.False(BackgroundGcKeeper.Due(now - Stopwatch.Frequency * 60, now, TimeSpan.Zero)); // turned off
    }

    [Fact]
    public async Task With_a_short_interval_the_keeper_starts_gen2_collections_itself()
    {
        Assert.True(BackgroundGcKeeper.Applies, "the test host runs the workstation concurrent GC, as the node does");
        var before = GC.CollectionCount(2);
        using var keeper = Keeper("0.2");
        await keeper.StartAsync(CancellationToken.None);
        var clock = Stopwatch.StartNew();
        while (keeper.Started == 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        await keeper.StopAsync(CancellationToken.None);
        Assert.True(keeper.Started > 0, "no collection started within 10 s with a 0.2 s interval");
        Assert.True(GC.CollectionCount(2) > before);
    }

    [Fact]
    public async Task Turned_off_it_starts_nothing()
    {
        using var keeper = Keeper("0");
        await keeper.StartAsync(CancellationToken.None);
        await Task.Delay(300);
        await keeper.StopAsync(CancellationToken.None);
        Assert.Equal(0, keeper.Started);
    }
}
