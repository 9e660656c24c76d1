using System.Net;
using System.Net.Sockets;

namespace RaftMall.Node.InProcessTests;

/// <summary>An IHttpClientFactory whose clients answer with <see cref="Handler"/> and record every request.</summary>
public sealed class FakeHttp : IHttpClientFactory
{
    public List<(HttpRequestMessage Request, string Body)> Requests { get; } = [];

    /// <summary>Answers a request (its body already read into the second argument).</summary>
    public Func<HttpRequestMessage, string, Task<HttpResponseMessage>> Handler { get; set; } = (_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));

    public HttpClient CreateClient(string name) => new(new Recorder(this), disposeHandler: true);

    public static HttpRequestException Refused() =>
        new("Connection refused", new SocketException((int)SocketError.ConnectionRefused));

    private sealed class Recorder(FakeHttp owner) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            lock (owner.Requests) owner.Requests.Add((request, body));
            return await owner.Handler(request, body).WaitAsync(cancellationToken); // as a real connection, the caller can give up
        }
    }
}
