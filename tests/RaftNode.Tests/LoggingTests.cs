using System.Text.Json;

namespace RaftMall.Node.Tests;

/// <summary>The node's log as an operator ships it: JSON lines by standard configuration, one line per member change.</summary>
public sealed class LoggingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_node_started_with_the_json_formatter_writes_json_lines_and_a_dead_member_costs_one_line()
    {
        await using var cluster = new TestCluster(output: output, environment: new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" });
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var survivor = cluster.NodeIds.First(id => id != leader);
        cluster.Kill(leader);
        await cluster.WaitForLeaderAsync(not: leader);
        await Task.Delay(1_000); // a second of a dead member: DotNext retries it every heartbeat

        var lines = await ReadLinesAsync(cluster.LogPath(survivor));
        var events = lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(events.Count >= 3, string.Join('\n', lines.Take(20)));
        Assert.All(events, e => Assert.True(e.TryGetProperty("Category", out _) && e.TryGetProperty("Message", out _) && e.TryGetProperty("LogLevel", out _)));
        // Structured fields are kept: the leader change names the new leader and term as fields, not only in the text.
        var leaderLine = events.Last(e => e.GetProperty("Message").GetString()!.StartsWith("leader is ", StringComparison.Ordinal));
        Assert.True(leaderLine.GetProperty("State").TryGetProperty("LeaderId", out _), leaderLine.ToString());
        Assert.True(leaderLine.GetProperty("State").TryGetProperty("Term", out _));

        // The dead leader: one line when it stopped answering (and one per change before: members start one after
        // another), no stack trace per failed request.
        var changes = events.Select(e => e.GetProperty("Message").GetString()!).Where(m => m.StartsWith($"member {leader} ", StringComparison.Ordinal)).ToList();
        Assert.True(changes.Count > 0 && changes[^1] == $"member {leader} does not answer", string.Join(" | ", changes));
        Assert.True(changes.Zip(changes.Skip(1)).All(pair => pair.First != pair.Second), "a repeated line: " + string.Join(" | ", changes));
        Assert.DoesNotContain(lines, l => l.Contains("is unavailable", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("   at System.Net", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_node_held_for_half_a_second_logs_the_stall_with_the_garbage_collectors_share()
    {
        // SIGSTOP holds every thread, as a long GC suspension or a machine without CPU would; the stall watch's
        // dedicated thread wakes ~500 ms late and says so once the process runs again.
        await using var cluster = new TestCluster(nodes: 1, output: output);
        await cluster.StartAllAsync();
        await cluster.WaitForLeaderAsync();
        cluster.Pause("n1");
        await Task.Delay(500);
        cluster.Resume("n1");
        string[] stalls = [];
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); stalls.Length == 0 && clock.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(100))
        {
            stalls = [.. (await ReadLinesAsync(cluster.LogPath("n1"))).Where(l => l.Contains("process stalled", StringComparison.Ordinal))];
        }
        cluster.Log(string.Join('\n', stalls));
        var line = Assert.Single(stalls, l => System.Text.RegularExpressions.Regex.Match(l, @"process stalled (\d+) ms").Groups[1].Value is var ms && int.Parse(ms) is >= 400 and < 5_000);
        Assert.Contains("GC pauses", line, StringComparison.Ordinal);
    }

    private static async Task<string[]> ReadLinesAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
