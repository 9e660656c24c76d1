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

    private sealed class Handler(List<string> calls) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            calls.Add(request.RequestUri!.Authority);
            if (request.RequestUri.Port == 5001) throw new SocketException((int)SocketError.NotConnected);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"sku":"apple","available":5,"locked":0,"sold":0}""", Encoding.UTF8, "application/json"),
            });
        }
    }
}
