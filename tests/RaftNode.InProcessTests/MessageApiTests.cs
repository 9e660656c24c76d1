using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RaftMall.Contract;
using RaftMall.Node.Api;
using RaftMall.Node.Consensus;
using RaftMall.Node.Security;
using RaftMall.StateMachine;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// The message, consumer and subscription endpoints over HTTP in this process (Kestrel on a free port), in front of the fake
/// consensus: what a client sees, and that a refused request proposes nothing.
/// </summary>
public sealed class MessageApiTests : IAsyncLifetime
{
    private readonly Node _node = new(c => c.MaxWritesPerEntry = 1);
    private ApiHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiHost.StartAsync(_node, TimeProvider.System, app => app.MapEvents().MapMessages().MapConsumers().MapSubscriptions(),
            services => services.AddSingleton<WriteBatcher>().AddSingleton<Gateway>());
        _http = _host.Http;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _node.Consensus.Dispose();
    }

    [Fact]
    public async Task A_published_message_is_an_event_with_its_topic_key_and_payload()
    {
        var answer = await PostJson("/api/messages", """{"topic":"points","key":"user-7","payload":{"points":10,"reason":"order 1"}}""");
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        var published = (await answer.Content.ReadFromJsonAsync(ContractJsonContext.Default.PublishedMessage))!;
        Assert.Equal(("evt-1", 1L, "points", "user-7"), (published.Id, published.Sequence, published.Topic, published.Key));

        var page = (await _http.GetFromJsonAsync("/api/events?after=0", ContractJsonContext.Default.EventPage))!;
        var message = Assert.Single(page.Events);
        Assert.Equal(("message", "points", "user-7"), (message.Type, message.Topic, message.Key));
        Assert.Equal(10, message.Payload!.Value.GetProperty("points").GetInt32());
        Assert.Null(message.OrderId);
    }

    [Theory]
    [InlineData("""{"topic":"","payload":{}}""", "validation", "topic must not be empty")]
    [InlineData("""{"topic":"a/b","payload":{}}""", "validation", "topic may contain only")]
    [InlineData("""{"topic":"t","payload":null}""", "validation", "payload is required")]
    [InlineData("""{"topic":"t"}""", "validation", "payload is required")]
    [InlineData("""{"topic":"t","key":"bad key","payload":1}""", "validation", "key may contain only")]
    [InlineData("""{"topic":"t","payload":{"a":1,}""", "malformed_json", "")]
    [InlineData("""{"topic":"t","payload":{"a":1}, "extra":2}""", "malformed_json", "extra")]
    public async Task A_bad_message_is_a_400_that_proposes_nothing(string body, string code, string detail)
    {
        var answer = await PostJson("/api/messages", body);
        await AssertProblem(answer, 400, code, detail);
        Assert.Empty(_node.Consensus.Proposed);
    }

    [Fact]
    public async Task A_payload_over_the_limit_is_a_400_that_proposes_nothing()
    {
        var fits = "\"" + new string('x', MallLimits.MaxMessagePayloadLength - 2) + "\"";
        Assert.Equal(HttpStatusCode.Created, (await PostJson("/api/messages", $$"""{"topic":"t","payload":{{fits}}}""")).StatusCode);
        var over = "\"" + new string('x', MallLimits.MaxMessagePayloadLength - 1) + "\"";
        await AssertProblem(await PostJson("/api/messages", $$"""{"topic":"t","payload":{{over}}}"""), 400, "validation", $"longer than {MallLimits.MaxMessagePayloadLength}");
        Assert.Single(_node.Consensus.Proposed);
    }

    [Fact]
    public async Task An_order_and_its_message_commit_together_or_not_at_all()
    {
        _node.State.Apply(1, new SetStock("apple", 3));
        var body = """{"userId":"ann","items":[{"sku":"apple","quantity":2}],"message":{"topic":"stock","key":"deduct","payload":{"sku":"apple","quantity":2}}}""";
        var answer = await PostJson("/api/orders/with-message", body);
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        var placed = (await answer.Content.ReadFromJsonAsync(ContractJsonContext.Default.OrderWithMessage))!;
        Assert.Equal(1, placed.Order.OrderId);
        var message = _node.State.Read(s => s.ReadEvents(placed.Message.Sequence - 1, 1)).Single();
        Assert.Equal((EventKind.Message, 1L, "stock"), (message.Kind, message.OrderId, message.Subject));

        // Not enough stock left: no order and no message.
        var eventsBefore = _node.State.Read(s => s.LastEventSequence);
        await AssertProblem(await PostJson("/api/orders/with-message", body), 409, "insufficient_stock", "");
        Assert.Equal(eventsBefore, _node.State.Read(s => s.LastEventSequence));
        // A bad message refuses the order before anything is proposed.
        var proposed = _node.Consensus.Proposed.Count;
        await AssertProblem(await PostJson("/api/orders/with-message", body.Replace("\"stock\",\"key\"", "\"\",\"key\"", StringComparison.Ordinal)), 400, "validation", "message: topic");
        await AssertProblem(await PostJson("/api/orders/with-message", """{"userId":"ann","items":[{"sku":"apple","quantity":1}]}"""), 400, "validation", "message is required");
        Assert.Equal(proposed, _node.Consensus.Proposed.Count);
    }

    [Fact]
    public async Task A_consumer_reads_after_its_committed_position_and_acks_forward_only()
    {
        for (var i = 1; i <= 5; i++) _node.State.Apply(i, new PublishMessage("t", null, $"{i}"));
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/consumers/stock")).StatusCode);

        var first = (await _http.GetFromJsonAsync("/api/consumers/stock/events?limit=2", ContractJsonContext.Default.EventPage))!;
        Assert.Equal([1L, 2L], first.Events.Select(e => e.Sequence));
        var acked = await Ack("stock", 2);
        Assert.Equal((2L, 3L, 0L), (acked.Sequence, acked.Lag, acked.MissedEvents));

        var next = (await _http.GetFromJsonAsync("/api/consumers/stock/events", ContractJsonContext.Default.EventPage))!;
        Assert.Equal([3L, 4L, 5L], next.Events.Select(e => e.Sequence));
        Assert.Equal(2, (await Ack("stock", 1)).Sequence); // a late ack does not move it back
        await AssertProblem(await PostJson("/api/consumers/stock/ack", """{"sequence":6}"""), 400, "validation", "do not exist");
        await AssertProblem(await PostJson("/api/consumers/stock/ack", """{}"""), 400, "validation", "sequence");

        var move = await _http.PutAsync("/api/consumers/stock/position", Json("""{"sequence":0}"""));
        Assert.Equal(0, (await move.Content.ReadFromJsonAsync(ContractJsonContext.Default.ConsumerPosition))!.Sequence);
        var all = (await _http.GetFromJsonAsync("/api/consumers", ContractJsonContext.Default.ConsumerPositionArray))!;
        Assert.Equal(("stock", 5L), (Assert.Single(all).Name, all[0].Lag));
        Assert.Equal(HttpStatusCode.OK, (await _http.DeleteAsync("/api/consumers/stock")).StatusCode);
        await AssertProblem(await _http.DeleteAsync("/api/consumers/stock"), 404, "consumer_not_found", "");
    }

    [Fact]
    public async Task A_consumer_behind_the_retention_gets_410_until_an_operator_moves_it()
    {
        _node.State.Replace(new MallStateMachine(retainedEvents: 4), 0);
        _node.State.Apply(1, new PublishMessage("t", null, "1"));
        _node.State.Apply(2, new AckConsumer("slow", 1));
        for (var i = 2; i <= 10; i++) _node.State.Apply(i + 1, new PublishMessage("t", null, $"{i}"));

        var view = (await _http.GetFromJsonAsync("/api/consumers/slow", ContractJsonContext.Default.ConsumerPosition))!;
        Assert.Equal((1L, 7L, 5L), (view.Sequence, view.FirstRetainedSequence, view.MissedEvents)); // events 2..6 are gone
        await AssertProblem(await _http.GetAsync("/api/consumers/slow/events"), 410, ProblemCodes.EventsTrimmed, "events 2..6 are no longer kept");
        await AssertProblem(await _http.GetAsync("/api/consumers/fresh/events"), 410, ProblemCodes.EventsTrimmed, "events 1..6");

        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsync("/api/consumers/slow/position", Json("""{"sequence":6}"""))).StatusCode);
        var page = (await _http.GetFromJsonAsync("/api/consumers/slow/events", ContractJsonContext.Default.EventPage))!;
        Assert.Equal([7L, 8L, 9L, 10L], page.Events.Select(e => e.Sequence));
    }

    /// <summary>A consumer acks with a writer's key; moving or deleting a consumer, and subscriptions (reads included: they name the URLs the leader calls), are an admin's.</summary>
    [Theory]
    [InlineData("POST", "/api/messages", ClientRole.Writer)]
    [InlineData("POST", "/api/orders/with-message", ClientRole.Writer)]
    [InlineData("POST", "/api/consumers/stock/ack", ClientRole.Writer)]
    [InlineData("GET", "/api/consumers/stock/events", ClientRole.Reader)]
    [InlineData("PUT", "/api/consumers/stock/position", ClientRole.Admin)]
    [InlineData("DELETE", "/api/consumers/stock", ClientRole.Admin)]
    [InlineData("GET", "/api/subscriptions", ClientRole.Admin)]
    [InlineData("POST", "/api/subscriptions", ClientRole.Admin)]
    [InlineData("POST", "/api/subscriptions/stock/retry", ClientRole.Admin)]
    [InlineData("DELETE", "/api/subscriptions/stock", ClientRole.Admin)]
    public void Each_message_consumer_and_subscription_endpoint_needs_its_role(string method, string path, ClientRole role) =>
        Assert.Equal(role, AccessRules.Required(method, path));

    private async Task<RaftMall.Contract.ConsumerPosition> Ack(string consumer, long sequence)
    {
        var answer = await PostJson($"/api/consumers/{consumer}/ack", $$"""{"sequence":{{sequence}}}""");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return (await answer.Content.ReadFromJsonAsync(ContractJsonContext.Default.ConsumerPosition))!;
    }

    private Task<HttpResponseMessage> PostJson(string path, string body) => _http.PostAsync(path, Json(body));

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task AssertProblem(HttpResponseMessage answer, int status, string code, string detail)
    {
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(status == (int)answer.StatusCode, $"expected {status}, got {(int)answer.StatusCode}: {text}");
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
