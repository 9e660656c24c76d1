using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Serialization;

namespace RaftMall.Node.ContainerTests;

/// <summary>
/// Is there a Docker engine, and does it hold the node image? Asked once, with a short timeout, before anything
/// touches Testcontainers: its settings are read once, in static initialisers, so they are set here first.
/// </summary>
public static class DockerProbe
{
    /// <summary>The image under test; deploy/build-offline-image.sh builds it.</summary>
    public static readonly string Image = Environment.GetEnvironmentVariable("RAFTMALL_NODE_IMAGE") ?? "raftmall/node:dev";

    /// <summary>RAFTMALL_REQUIRE_DOCKER=1 (CI sets it): a missing engine or image fails the tests instead of skipping them.</summary>
    public static readonly bool Required = Environment.GetEnvironmentVariable("RAFTMALL_REQUIRE_DOCKER") == "1";

    private const int ProbeTimeoutMs = 3_000;

    private static readonly Lazy<string?> LazyProblem = new(Probe);

    /// <summary>Why the container tests cannot run here, or null when they can.</summary>
    public static string? Problem => LazyProblem.Value;

    /// <summary>The skip reason for [DockerFact]: the problem, unless Docker is required.</summary>
    public static string? SkipReason => Required || Problem is null ? null : "Container test skipped: " + Problem;

    /// <summary>Throws when the tests cannot run (they run only when not skipped, so this means Docker is required).</summary>
    public static void EnsureAvailable()
    {
        if (Problem is { } problem) throw new InvalidOperationException($"{problem} (RAFTMALL_REQUIRE_DOCKER=1)");
    }

    private static string? Probe()
    {
        var endpoint = Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "unix:///var/run/docker.sock";
        try
        {
            using var http = CreateClient(endpoint);
            using var timeout = new CancellationTokenSource(ProbeTimeoutMs);
            var version = http.GetFromJsonAsync<EngineVersion>("/version", timeout.Token).GetAwaiter().GetResult()!;
            ConfigureTestcontainers(version, endpoint);
            using var image = http.GetAsync($"/images/{Image}/json", timeout.Token).GetAwaiter().GetResult();
            return image.IsSuccessStatusCode
                ? null
                : $"the Docker engine ({version.Version}) has no image {Image}; build it with deploy/build-offline-image.sh (README, Containers)";
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or IOException or NotSupportedException)
        {
            return $"no Docker engine reachable at {endpoint} ({e.GetType().Name}: {e.Message}); "
                + "start Docker and build the image with deploy/build-offline-image.sh (README, Containers)";
        }
    }

    private static HttpClient CreateClient(string endpoint)
    {
        var uri = new Uri(endpoint);
        if (uri.Scheme == "tcp") return new HttpClient { BaseAddress = new Uri($"http://{uri.Authority}") };
        if (uri.Scheme != "unix") throw new NotSupportedException($"DOCKER_HOST scheme {uri.Scheme}");
        if (!File.Exists(uri.AbsolutePath)) throw new IOException($"socket {uri.AbsolutePath} does not exist");
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(uri.AbsolutePath), token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://docker") };
    }

    /// <summary>
    /// Testcontainers' three settings for an offline engine, each only when the environment does not set it:
    /// its default API version (1.44) is newer than Debian 12's engine (1.41), its reaper container would be pulled
    /// from a registry, and /.dockerenv on this machine makes it use the bridge gateway instead of 127.0.0.1.
    /// </summary>
    private static void ConfigureTestcontainers(EngineVersion version, string endpoint)
    {
        if (Version.TryParse(version.ApiVersion, out var api) && api < new Version(1, 44)) SetIfUnset("DOCKER_API_VERSION", version.ApiVersion);
        SetIfUnset("TESTCONTAINERS_RYUK_DISABLED", "true");
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal)) SetIfUnset("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1");
    }

    private static void SetIfUnset(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, value);
    }

    private sealed record EngineVersion(
        [property: JsonPropertyName("Version")] string Version,
        [property: JsonPropertyName("ApiVersion")] string ApiVersion);
}

/// <summary>A fact that is skipped, with the reason, when no Docker engine (or no node image) is there.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class DockerFactAttribute : FactAttribute
{
    public DockerFactAttribute()
    {
        if (DockerProbe.SkipReason is { } reason) Skip = reason;
    }
}
