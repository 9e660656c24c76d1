using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using RaftMall.Node.Api;
using RaftMall.Node.Consensus;
using RaftMall.Node.Drivers;
using RaftMall.Node.Observability;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// Traces through the node's own code, recorded with OpenTelemetry's in-memory exporter: a write's span and its
/// entry's span (linked), a forwarded write that carries the caller's trace to the leader, and a transaction whose
/// phases are spans and whose participant calls carry W3C traceparent. The leader and the participant are real HTTP
/// listeners on 127.0.0.1 behind the real HttpClient stack, which is what propagates the context.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private readonly List<Activity> _spans = [];
    private readonly TracerProvider _tracing;
    private readonly ActivitySource _test = new("RaftMall.Tests." + Guid.NewGuid().ToString("N"));

    public TracingTests() =>
        _tracing = Sdk.CreateTracerProviderBuilder().AddSource(NodeTelemetry.Name, _test.Name).AddHttpClientInstrumentation().AddInMemoryExporter(_spans).Build()!;

    public void Dispose()
    {
        _tracing.Dispose();
        _test.Dispose();
    }

    [Fact]
    public async Task Each_write_has_a_span_and_its_entrys_span_links_to_it()
    {
        var node = new Node();
        using var batcher = new WriteBatcher(node.Proposer, node.Settings, Node.Log<WriteBatcher>());
        await batcher.StartAsync(CancellationToken.None);
        var gateway = new Gateway(batcher, node.Consensus, node.State, node.Settings, node.Time);
        using var request = _test.StartActivity("test request")!;

        var writes = Enumerable.Range(0, 8).Select(i => gateway.WriteAsync(Context().Request, new KvPut($"k{i}", "v", null), _ => Results.Ok()));
        await Task.WhenAll(writes);
        request.Stop();
        await batcher.StopAsync(CancellationToken.None);
        _tracing.ForceFlush();

        var mine = Spans(request.TraceId);
        var writeSpans = mine.Where(s => s.OperationName == "raftmall.write").ToList();
        Assert.Equal(8, writeSpans.Count);
        Assert.All(writeSpans, s => Assert.Equal("ok", s.GetTagItem("raftmall.code")));
        Assert.All(writeSpans, s => Assert.Equal(request.SpanId, s.ParentSpanId));
        // An entry's span starts a trace of its own (it serves many requests) and links to every write it carries.
        var linked = Spans().Where(s => s.OperationName == "raftmall.propose").SelectMany(s => s.Links).Select(l => l.Context.SpanId).ToHashSet();
        Assert.All(writeSpans, s => Assert.Contains(s.SpanId, linked));
        node.Consensus.Dispose();
    }

    [Fact]
    public async Task A_forwarded_write_carries_the_callers_trace_to_the_leader()
    {
        using var leader = new Listener();
        var node = new Node(c => c.Nodes[1].Address = leader.Address.TrimEnd('/'));
        node.Consensus.LeaderIs(node.Member("n2"));
        var forwarding = new LeaderForwarding(_ => Task.CompletedTask, node.Consensus, node.Settings, RealHttp(), node.Time, Node.Log<LeaderForwarding>());
        var context = Context();
        context.Request.Method = "POST";
        context.Request.Path = "/api/kv/k";
        context.Request.Body = new MemoryStream("""{"value":"v"}"""u8.ToArray());
        using var request = _test.StartActivity("request on the follower")!;

        await forwarding.InvokeAsync(context);
        request.Stop();

        var traceparent = Assert.Single(leader.TraceParents);
        Assert.Equal(request.TraceId.ToHexString(), traceparent.Split('-')[1]);
        Assert.Equal(200, context.Response.StatusCode);
        node.Consensus.Dispose();
    }

    [Fact]
    public async Task A_transactions_phases_are_spans_and_every_participant_call_carries_the_trace()
    {
        using var participant = new Listener();
        var node = new Node();
        using var writes = new WriteBatcher(node.Proposer, node.Settings, Node.Log<WriteBatcher>());
        using var batcher = new CommandBatcher(node.Proposer, writes, Node.Log<CommandBatcher>());
        using var driver = new TransactionDriver(node.Consensus, node.State, new ParticipantCaller(RealHttp(), node.Settings, node.Time), batcher,
            node.Settings, node.Time, Node.Log<TransactionDriver>());
        await writes.StartAsync(CancellationToken.None);
        await batcher.StartAsync(CancellationToken.None);
        await driver.StartAsync(CancellationToken.None);
        var branch = BranchSpec.Http("points", participant.Address + "try", participant.Address + "confirm", participant.Address + "cancel");
        var outcome = await node.Proposer.ProposeAsync(new BeginTransaction("g-traced", TransactionMode.Tcc, 30_000, [branch]), CancellationToken.None);
        Assert.True(Assert.IsType<ProposeOutcome.Applied>(outcome).Result.IsSuccess);

        var request = _test.StartActivity("begin request")!;
        driver.Start("g-traced"); // as the begin endpoint does, inside its request
        request.Stop();
        await node.RunUntilAsync(() => node.State.Read(s => s.GetTransaction("g-traced"))!.IsFinished, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(30), "the transaction finishing");
        await driver.StopAsync(CancellationToken.None);
        await batcher.StopAsync(CancellationToken.None);
        await writes.StopAsync(CancellationToken.None);
        _tracing.ForceFlush();

        var mine = Spans(request.TraceId);
        var phase1 = Assert.Single(mine, s => s.OperationName == "raftmall.txn.phase1");
        var decide = Assert.Single(mine, s => s.OperationName == "raftmall.txn.decide");
        var phase2 = Assert.Single(mine, s => s.OperationName == "raftmall.txn.phase2");
        Assert.Equal("g-traced", phase1.GetTagItem("raftmall.gid"));
        Assert.Equal("commit", decide.GetTagItem("raftmall.decision"));
        // Each participant call is an HTTP client span under its phase, and the participant got that span as its parent.
        Assert.Equal(["try", "confirm"], participant.Paths);
        var calls = mine.Where(s => s.Kind == ActivityKind.Client).ToList();
        Assert.Equal(2, calls.Count);
        Assert.Contains(calls, c => c.ParentSpanId == phase1.SpanId);
        Assert.Contains(calls, c => c.ParentSpanId == phase2.SpanId);
        foreach (var traceparent in participant.TraceParents)
        {
            var parts = traceparent.Split('-');
            Assert.Equal(request.TraceId.ToHexString(), parts[1]);
            Assert.Contains(calls, c => c.SpanId.ToHexString() == parts[2]);
        }
        node.Consensus.Dispose();
    }

    private List<Activity> Spans()
    {
        lock (_spans) return [.. _spans];
    }

    private List<Activity> Spans(ActivityTraceId trace) => [.. Spans().Where(s => s.TraceId == trace)];

    private static DefaultHttpContext Context()
    {
        var context = Node.HttpContext();
        context.Request.Headers.ContentType = "application/json";
        return context;
    }

    /// <summary>The real HttpClient stack (SocketsHttpHandler), as the node builds it.</summary>
    private static IHttpClientFactory RealHttp() =>
        new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();

    /// <summary>An HTTP endpoint on 127.0.0.1 that answers 200 {} and records each request's path and traceparent.</summary>
    private sealed class Listener : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly List<string> _paths = [];
        private readonly List<string> _traceParents = [];

        public Listener()
        {
            var port = RaftMall.Harness.Processes.FreePorts(1)[0];
            Address = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Address);
            _listener.Start();
            _ = ServeAsync();
        }

        public string Address { get; }

        public List<string> Paths
        {
            get { lock (_paths) return [.. _paths]; }
        }

        public List<string> TraceParents
        {
            get { lock (_paths) return [.. _traceParents]; }
        }

        public void Dispose() => _listener.Close();

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                lock (_paths)
                {
                    _paths.Add(context.Request.Url!.AbsolutePath.Trim('/'));
                    if (context.Request.Headers["traceparent"] is { } traceparent) _traceParents.Add(traceparent);
                }
                var body = Encoding.UTF8.GetBytes("{}");
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }
    }
}
