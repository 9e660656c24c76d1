using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Limits = RaftMall.StateMachine.MallLimits;

namespace RaftMall.Node.Tests;

/// <summary>Every limit of docs/limits.md, enforced with a clear problem+json answer and nothing applied.</summary>
public sealed class LimitsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Size_limits_answer_with_a_code_and_apply_nothing()
    {
        await using var cluster = new TestCluster(output: output);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        (await cluster.SendAsync(HttpMethod.Put, leader, "/api/kv/warm", new { value = "up" })).EnsureSuccessStatusCode();
        await Task.Delay(300);
        var before = (await cluster.StatusAsync(leader))!.CommitIndex;

        async Task Expect(HttpStatusCode status, string code, HttpMethod method, string path, string json)
        {
            using var request = new HttpRequestMessage(method, new Uri(cluster.Address(leader), path)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            // A large body waits for "100 Continue": the node refuses it from the Content-Length before any of it is sent,
            // instead of racing the client's write against the closing connection.
            request.Headers.ExpectContinue = json.Length > 100_000;
            using var response = await cluster.Http.SendAsync(request);
            Assert.Equal(status, response.StatusCode);
            Assert.Equal(code, (await response.Content.ReadFromJsonAsync<ProblemBody>(TestCluster.Json))!.Code);
        }
        await Expect(HttpStatusCode.BadRequest, "validation", HttpMethod.Put, "/api/kv/" + new string('k', Limits.MaxKeyLength + 1), "{\"value\":\"v\"}");
        await Expect(HttpStatusCode.BadRequest, "validation", HttpMethod.Put, "/api/kv/k", $"{{\"value\":\"{new string('v', Limits.MaxValueLength + 1)}\"}}");
        var items = string.Join(',', Enumerable.Range(0, Limits.MaxItemsPerOrder + 1).Select(i => $"{{\"sku\":\"s{i}\",\"quantity\":1}}"));
        await Expect(HttpStatusCode.BadRequest, "validation", HttpMethod.Post, "/api/orders", $"{{\"userId\":\"u\",\"items\":[{items}]}}");
        await Expect(HttpStatusCode.RequestEntityTooLarge, "body_too_large", HttpMethod.Put, "/api/kv/k", $"{{\"value\":\"{new string('v', 1_100_000)}\"}}");
        await Expect(HttpStatusCode.BadRequest, "validation", HttpMethod.Get, "/api/orders?limit=1001", "");
        await Expect(HttpStatusCode.BadRequest, "validation", HttpMethod.Get, "/api/events?waitSeconds=31", "");
        // At the limit is fine.
        await Expect(HttpStatusCode.NotFound, "key_not_found", HttpMethod.Get, "/api/kv/" + new string('k', Limits.MaxKeyLength), "");
        using (var put = await cluster.SendAsync(HttpMethod.Put, leader, "/api/kv/big", new { value = new string('v', Limits.MaxValueLength) })) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await Task.Delay(200);
        Assert.Equal(before + 1, (await cluster.StatusAsync(leader))!.CommitIndex);
    }

    [Fact]
    public async Task A_client_over_its_rate_gets_429_while_another_client_is_served()
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["RateLimitPerSecond"] = "50" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        using var writer = Client(TestCluster.TestKeys.Writer);
        // 150 writes at once: the bucket holds 50 (one second's worth).
        var statuses = await Task.WhenAll(Enumerable.Range(0, 150).Select(async i =>
        {
            using var response = await writer.PutAsJsonAsync(new Uri(cluster.Address(leader), "/api/kv/counted"), new { value = $"v{i}" });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("rate_limited", (await response.Content.ReadFromJsonAsync<ProblemBody>(TestCluster.Json))!.Code);
                Assert.NotNull(response.Headers.RetryAfter);
            }
            return response.StatusCode;
        }));
        var accepted = statuses.Count(s => s == HttpStatusCode.OK);
        cluster.Log($"{accepted} accepted, {statuses.Count(s => s == HttpStatusCode.TooManyRequests)} rate limited");
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"{s}"));
        // Another key has its own bucket; and every refused write applied nothing (the revision counts the accepted).
        // (A client that retries 503s: a linearizable read can need a second try on a loaded machine.)
        using var reader = new RaftMall.Client.RaftMallClient(new RaftMall.Client.RaftMallClientOptions { Endpoints = [cluster.Address(leader)], ApiKey = TestCluster.TestKeys.Reader });
        Assert.Equal(accepted, (await reader.GetAsync("counted")).Revision);
    }

    [Fact]
    public async Task Beyond_the_concurrent_request_limit_a_node_answers_503_overloaded()
    {
        await using var cluster = new TestCluster(output: output, settings: new Dictionary<string, string> { ["MaxConcurrentRequests"] = "4" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var node = cluster.Address(leader);
        using (var before = await cluster.Http.GetAsync(new Uri(node, "/api/cluster"))) Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        // Four long polls hold the four slots; as soon as they are all in (a loaded machine may take a while to open
        // four connections), a fifth request is refused. A poll that ends early (refused itself, because a request of
        // the test cluster's own held a slot for a moment) is sent again, so the four slots stay held.
        using var hold = new CancellationTokenSource();
        var polls = Enumerable.Range(0, 4).Select(_ => HoldSlotAsync(cluster, node, hold.Token)).ToList();
        string? refusedCode = null;
        var answers = new List<HttpStatusCode>();
        for (var clock = Stopwatch.StartNew(); refusedCode is null && clock.Elapsed < TimeSpan.FromSeconds(25); await Task.Delay(200))
        {
            using var fifth = await cluster.Http.GetAsync(new Uri(node, "/api/cluster"));
            answers.Add(fifth.StatusCode);
            if (fifth.StatusCode == HttpStatusCode.ServiceUnavailable) refusedCode = (await fifth.Content.ReadFromJsonAsync<ProblemBody>(TestCluster.Json))!.Code;
        }
        cluster.Log($"fifth request answers until refused: {string.Join(", ", answers)}");
        Assert.Equal("overloaded", refusedCode);
        await hold.CancelAsync();
        await Task.WhenAll(polls);
        // The node frees a slot when it sees its poll aborted: served again within a few seconds.
        var served = HttpStatusCode.ServiceUnavailable;
        for (var clock = Stopwatch.StartNew(); served != HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(100))
        {
            using var answer = await cluster.Http.GetAsync(new Uri(node, "/api/cluster"));
            served = answer.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, served);
    }

    /// <summary>Keeps one long poll in flight on <paramref name="node"/> until <paramref name="stop"/>.</summary>
    private static async Task HoldSlotAsync(TestCluster cluster, Uri node, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var poll = await cluster.Http.GetAsync(new Uri(node, "/api/events?after=1000000&waitSeconds=12"), stop); // under the client's 15 s timeout
                if (poll.StatusCode != HttpStatusCode.OK) cluster.Log($"a slot-holding poll was answered {(int)poll.StatusCode}");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }
    }

    [Fact]
    public async Task Slow_clients_are_cut_off_headers_after_10_s_and_bodies_below_240_bytes_per_second()
    {
        await using var cluster = new TestCluster(nodes: 1, output: output);
        await cluster.StartAllAsync();
        var node = cluster.Address("n1");
        var clock = Stopwatch.StartNew();
        var slowHeaders = TimeUntilClosedAsync(node, "GET /api/cluster HTTP/1.1\r\nHost: x\r\n", trickle: false);
        var slowBody = TimeUntilClosedAsync(node,
            $"PUT /api/kv/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TestCluster.TestKeys.Admin}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"value\":\"",
            trickle: true);
        var (headersClosed, _) = await slowHeaders;
        var (bodyClosed, bodyAnswer) = await slowBody;
        cluster.Log($"slow headers closed after {headersClosed.TotalSeconds:F1} s; slow body after {bodyClosed.TotalSeconds:F1} s: {bodyAnswer.Split('\r')[0]}");
        Assert.InRange(headersClosed.TotalSeconds, 9, 25);
        Assert.InRange(bodyClosed.TotalSeconds, 4, 25);
        Assert.DoesNotContain("200 OK", bodyAnswer, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40));
        using var check = await cluster.Http.GetAsync(new Uri(node, "/api/kv/slow"));
        Assert.Equal(HttpStatusCode.NotFound, check.StatusCode);
    }

    /// <summary>Sends <paramref name="start"/> and then nothing (or one byte a second); returns when the server closed the connection, and what it answered.</summary>
    private static async Task<(TimeSpan Closed, string Answer)> TimeUntilClosedAsync(Uri node, string start, bool trickle)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(node.Host, node.Port);
        var stream = tcp.GetStream();
        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(start));
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        var reading = stream.ReadAsync(buffer).AsTask();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var done = await Task.WhenAny(reading, Task.Delay(1_000));
            if (done == reading)
            {
                int read;
                try { read = await reading; } catch (IOException) { break; }
                if (read == 0) break;
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
                reading = stream.ReadAsync(buffer).AsTask();
                continue;
            }
            if (!trickle) continue;
            try { await stream.WriteAsync("v"u8.ToArray()); } catch (IOException) { break; }
        }
        return (clock.Elapsed, answer.ToString());
    }

    private static HttpClient Client(string key)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }
}
