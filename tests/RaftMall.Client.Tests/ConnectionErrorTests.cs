using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RaftMall.Client.Tests;

/// <summary>A connection that breaks while it is set up is a failed attempt: retried on the next node, never thrown as is.</summary>
public class ConnectionErrorTests
{
    [Fact]
    public async Task A_bare_socket_error_moves_on_to_the_next_node()
    {
        var calls = new List<string>();
        using var client = new RaftMallClient(new RaftMallClientOptions
        {
            Endpoints = [new Uri("http://127.0.0.1:5001"), new Uri("http://127.0.0.1:5002")],
            RetryBudget = TimeSpan.FromSeconds(5),
        }, new Handler(calls));

        var status = await client.GetStockAsync("apple");

        Assert.Equal(5, status.Available);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], calls);
    }

    [Theory]
    [InlineData("outcome_unknown")]
    [InlineData("not_leader")]
    [InlineData("no_leader")]
    public async Task A_node_that_answers_503_without_a_leader_is_passed_over_for_the_next(string code)
    {
        // A leader that lost its term answers its pending writes 503 outcome_unknown with Retry-After: 1 and names no
        // leader; so does a cut-off node that has none. The next node may know the new leader already.
        var calls = new List<string>();
        using var client = new RaftMallClient(new RaftMallClientOptions
        {
            Endpoints = [new Uri("http://127.0.0.1:5001"), new Uri("http://127.0.0.1:5002")],
            RetryBudget = TimeSpan.FromSeconds(5),
        }, new Handler(calls, first => Problem(code)));

        var status = await client.GetStockAsync("apple");

        Assert.Equal(5, status.Available);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], calls);
    }

    [Fact]
    public async Task A_node_that_answers_503_and_names_the_leader_is_left_for_that_leader()
    {
        var calls = new List<string>();
        using var client = new RaftMallClient(new RaftMallClientOptions
        {
            Endpoints = [new Uri("http://127.0.0.1:5001"), new Uri("http://127.0.0.1:5002"), new Uri("http://127.0.0.1:5003")],
            RetryBudget = TimeSpan.FromSeconds(5),
        }, new Handler(calls, first =>
        {
            var answer = Problem("outcome_unknown");
            answer.Headers.Add(RaftMall.Contract.RaftMallHeaders.Leader, "http://127.0.0.1:5003");
            return answer;
        }));

        await client.GetStockAsync("apple");

        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5003"], calls);
    }

    private static HttpResponseMessage Problem(string code)
    {
        var answer = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent($$"""{"status":503,"title":"Service Unavailable","detail":"d","code":"{{code}}"}""", Encoding.UTF8, "application/problem+json"),
        };
        answer.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
        return answer;
    }

    private sealed class Handler(List<string> calls, Func<HttpRequestMessage, HttpResponseMessage>? first = null) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            calls.Add(request.RequestUri!.Authority);
            if (request.RequestUri.Port == 5001) return first is null ? throw new SocketException((int)SocketError.NotConnected) : Task.FromResult(first(request));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"sku":"apple","available":5,"locked":0,"sold":0}""", Encoding.UTF8, "application/json"),
            });
        }
    }
}
