using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using RaftMall.Harness;

namespace RaftMall.Client.Tests.Participants;

/// <summary>The sample participant as a real process, called as the coordinator calls it: crash safety of its journal and the barrier over HTTP.</summary>
public class LoyaltyPointsProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "raftmall-tests", "points-" + Guid.NewGuid().ToString("N")[..10]);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private PointsParticipant _points = null!;

    public async Task InitializeAsync() => _points = await PointsParticipant.StartAsync(TestPrograms.PointsDll, "points", _directory, CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _points.DisposeAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Kill_9_under_load_loses_no_acknowledged_effect_and_retries_apply_each_effect_once()
    {
        const int Accounts = 8;
        const long Initial = 1_000_000;
        for (var i = 0; i < Accounts; i++) await _points.SetAccountAsync($"acct-{i}", Initial);
        var acknowledged = new ConcurrentDictionary<string, string>(); // gid -> "confirm" / "cancel" when phase 2 was answered 2xx
        var tried = new ConcurrentDictionary<string, (string Account, string Phase2)>();
        var triesUnanswered = new ConcurrentDictionary<string, string>(); // gid -> account: the kill hit the try
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var gid = $"w{w}-{n}";
                var account = $"acct-{(w + n) % Accounts}";
                var phase2 = n % 3 == 0 ? "cancel" : "confirm";
                try
                {
                    if ((await CallAsync(gid, "try", account)).StatusCode != HttpStatusCode.OK) continue;
                    tried[gid] = (account, phase2);
                    if ((await CallAsync(gid, phase2, account)).IsSuccessStatusCode) acknowledged[gid] = phase2;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    if (!tried.ContainsKey(gid)) triesUnanswered[gid] = account;
                    await Task.Delay(20); // the participant is down
                }
            }
        })).ToArray();
        await Task.Delay(1_500);
        _points.Kill(); // mid-load: some calls are in flight, some lines may be torn
        output.WriteLine($"killed with {acknowledged.Count} phase-2 calls acknowledged");
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await _points.RestartAsync(CancellationToken.None);

        var effects = await _points.GetEffectsAsync();
        Assert.True(acknowledged.Count > 50, $"only {acknowledged.Count} transactions completed before the kill");
        foreach (var (gid, phase2) in acknowledged)
        {
            Assert.True(effects.TryGetValue(gid, out var e) && (phase2 == "confirm" ? e.Confirms : e.Cancels) == 1, $"{gid}: acknowledged {phase2} lost ({e})");
        }

        // The coordinator resends phase 2 until it is acknowledged: after that every effect is there exactly once.
        foreach (var (gid, (account, phase2)) in tried)
        {
            Assert.True((await CallAsync(gid, phase2, account, attempt: 2)).IsSuccessStatusCode, $"{gid}: {phase2} retry refused");
        }
        // A try whose answer was lost may or may not have committed; the coordinator aborts it: compensated iff it did.
        foreach (var (gid, account) in triesUnanswered) Assert.True((await CallAsync(gid, "cancel", account)).IsSuccessStatusCode);
        effects = await _points.GetEffectsAsync();
        foreach (var gid in triesUnanswered.Keys)
        {
            var e = effects[gid];
            Assert.True(e is (1, 0, 1, 0) or (0, 0, 0, 1), $"{gid}: {e}");
        }
        foreach (var (gid, (_, phase2)) in tried)
        {
            var e = effects[gid];
            Assert.Equal((1, phase2 == "confirm" ? 1 : 0, phase2 == "cancel" ? 1 : 0), (e.Tries, e.Confirms, e.Cancels));
        }
        long spent = 0, available = 0, frozen = 0;
        for (var i = 0; i < Accounts; i++)
        {
            var account = await _points.GetAccountAsync($"acct-{i}");
            (spent, available, frozen) = (spent + account.Spent, available + account.Available, frozen + account.Frozen);
        }
        Assert.Equal(0, frozen);
        Assert.Equal(Accounts * Initial, available + spent);
        Assert.Equal(tried.Count(t => t.Value.Phase2 == "confirm") * 10L, spent);
    }

    [Fact]
    public async Task Over_http_a_cancel_before_its_try_is_empty_a_late_try_is_refused_and_bad_headers_get_a_problem()
    {
        await _points.SetAccountAsync("bob", 100);
        var cancel = await CallAsync("late", "cancel", "bob");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var lateTry = await CallAsync("late", "try", "bob");
        Assert.Equal(HttpStatusCode.Conflict, lateTry.StatusCode);
        Assert.Contains("barrier_cancelled", await lateTry.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(new PointsAccount("bob", 100, 0, 0), await _points.GetAccountAsync("bob"));
        Assert.Equal(new PointsEffects(0, 0, 0, 1), (await _points.GetEffectsAsync())["late"]);

        var refused = await CallAsync("big", "try", "bob", points: 1_000);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("insufficient_points", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var noHeaders = await Http.PostAsJsonAsync(new Uri(_points.Url, "/tcc/try"), new { account = "bob", points = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, noHeaders.StatusCode);
        Assert.Contains("participant_header_missing", await noHeaders.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_held_call_waits_for_release_and_a_fail_rule_answers_503()
    {
        await _points.SetAccountAsync("carol", 100);
        await _points.AddRuleAsync("try", "hold", branch: "points");
        var held = CallAsync("h1", "try", "carol");
        Assert.True(await _points.WaitHeldAsync(1, TimeSpan.FromSeconds(5)));
        Assert.False(held.IsCompleted);
        Assert.Equal(new PointsAccount("carol", 100, 0, 0), await _points.GetAccountAsync("carol")); // held before the store
        await _points.ReleaseAsync();
        Assert.Equal(HttpStatusCode.OK, (await held).StatusCode);

        var fail = await _points.AddRuleAsync("confirm", "fail");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await CallAsync("h1", "confirm", "carol")).StatusCode);
        await _points.RemoveRuleAsync(fail);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync("h1", "confirm", "carol")).StatusCode);
        Assert.Equal(new PointsAccount("carol", 90, 0, 10), await _points.GetAccountAsync("carol"));
    }

    private async Task<HttpResponseMessage> CallAsync(string gid, string operation, string account, int attempt = 1, long points = 10)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_points.Url, $"/tcc/{operation}"))
        {
            Content = JsonContent.Create(new { account, points }),
        };
        ParticipantHeaders.Add(request.Headers, gid, "points", operation, attempt, "tcc");
        var response = await Http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
