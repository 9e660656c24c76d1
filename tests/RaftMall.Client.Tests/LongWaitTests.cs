using System.Net;
using System.Text;

namespace RaftMall.Client.Tests;

/// <summary>A long poll holds its answer on purpose: the attempt timeout must not cut it off and turn it into a retry.</summary>
public class LongWaitTests
{
    [Fact]
    public async Task A_long_poll_longer_than_the_attempt_timeout_gets_its_answer()
    {
        var node = new SlowEvents(TimeSpan.FromMilliseconds(600));
        using var client = new RaftMallClient(new RaftMallClientOptions
        {
            Endpoints = [new Uri("http://127.0.0.1:5001")],
            AttemptTimeout = TimeSpan.FromMilliseconds(200),
            RetryBudget = TimeSpan.Zero,
        }, node);

        var page = await client.ReadEventsAsync(after: 0, waitSeconds: 1);

        Assert.Equal(7, page.LastSequence);
        Assert.Equal(1, node.Calls);
        // Without a server wait the attempt timeout still applies.
        await Assert.ThrowsAsync<RaftMallUnavailableException>(() => client.ReadEventsAsync(after: 0, waitSeconds: 0));
    }

    private sealed class SlowEvents(TimeSpan delay) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            await Task.Delay(delay, cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"events":[],"lastSequence":7,"firstRetainedSequence":1}""", Encoding.UTF8, "application/json"),
            };
        }
    }
}
