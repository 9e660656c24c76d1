using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.InProcessTests;

/// <summary>One node's logic in this process: its settings, state, a fake clock and the fake consensus.</summary>
public sealed class Node
{
    public Node(Action<ClusterFile>? configure = null)
    {
        var cluster = new ClusterFile
        {
            Nodes =
            [
                new() { Id = "n1", Address = "http://127.0.0.1:7101" },
                new() { Id = "n2", Address = "http://127.0.0.1:7102" },
                new() { Id = "n3", Address = "http://127.0.0.1:7103" },
            ],
        };
        configure?.Invoke(cluster);
        Settings = new NodeSettings(cluster, "n1");
        State = new ReplicatedState(cluster.RetainedEvents);
        Consensus = new FakeConsensus(State, Settings.Self) { MemberList = [.. cluster.Nodes] };
        Proposer = new Proposer(Consensus, Time);
    }

    public NodeSettings Settings { get; }

    public ReplicatedState State { get; }

    /// <summary>Starts at a fixed instant, so times in the state are the same on every run.</summary>
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    public FakeConsensus Consensus { get; }

    public Proposer Proposer { get; }

    public ClusterNode Member(string id) => Settings.Cluster.Node(id);

    public static ILogger<T> Log<T>() => NullLogger<T>.Instance;

    /// <summary>A request as ASP.NET Core hands it to the node's code, with what problem answers need to be written, and a readable response body.</summary>
    public static DefaultHttpContext HttpContext()
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();
        return context;
    }

    /// <summary>The response body written so far.</summary>
    public static string ResponseBody(HttpContext context) => System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());

    /// <summary>
    /// Advances the fake clock in <paramref name="step"/>s, letting the node's background work run between steps, until
    /// <paramref name="done"/> holds; fails after <paramref name="limit"/> of fake time.
    /// </summary>
    public async Task RunUntilAsync(Func<bool> done, TimeSpan step, TimeSpan limit, string what)
    {
        for (var elapsed = TimeSpan.Zero; !done(); elapsed += step)
        {
            Assert.True(elapsed <= limit, $"not within {limit.TotalSeconds} s of fake time: {what}");
            Time.Advance(step);
            await Settle();
        }
    }

    /// <summary>Waits (real time, about 2 s at most) until work on the thread pool made <paramref name="condition"/> hold.</summary>
    public static async Task WaitForAsync(Func<bool> condition, string failure)
    {
        for (var i = 0; i < 2_000 && !condition(); i++) await Task.Delay(1);
        Assert.True(condition(), failure);
    }

    /// <summary>
    /// Lets continuations that are ready run (they are on the thread pool): a few short waits, and on a busy machine
    /// more, until no work item is queued (at most about 200 ms).
    /// </summary>
    public static async Task Settle()
    {
        for (var i = 0; i < 5; i++) await Task.Delay(1);
        for (var i = 0; i < 200 && ThreadPool.PendingWorkItemCount > 0; i++) await Task.Delay(1);
    }
}
