// Exit 0 when the node in this container answers its health endpoint with 2xx within 2 s, else 1.
// Usage: dotnet /app/healthcheck/healthcheck.dll [url]
// The default url is /health/ready on 127.0.0.1 at the port of RaftMall__Listen (the image sets it).
const int TimeoutMs = 2_000;

var url = args.Length > 0 ? args[0] : DefaultUrl(Environment.GetEnvironmentVariable("RaftMall__Listen"));
if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
{
    await Console.Error.WriteLineAsync("usage: healthcheck <url>  (or set RaftMall__Listen, e.g. http://0.0.0.0:7101)");
    return 2;
}

using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(TimeoutMs) };
try
{
    using var response = await http.GetAsync(uri);
    var body = await response.Content.ReadAsStringAsync();
    Console.WriteLine($"{uri}: {(int)response.StatusCode} {body}");
    return response.IsSuccessStatusCode ? 0 : 1;
}
catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
{
    Console.WriteLine($"{uri}: {e.Message}");
    return 1;
}

static string? DefaultUrl(string? listen) =>
    Uri.TryCreate(listen, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://127.0.0.1:{uri.Port}/health/ready" : null;
