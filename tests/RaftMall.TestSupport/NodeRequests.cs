using System.Net.Http.Json;
using System.Text.Json;

namespace RaftMall.TestSupport;

/// <summary>
/// A request to one node's HTTP API as the tests send it, to node processes (TestCluster) and to containers
/// (ContainerCluster) alike: a JSON body with web defaults, and an idempotency key when given.
/// </summary>
public static class NodeRequests
{
    /// <summary>The JSON options of the API: camelCase names, case-insensitive reads.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, Uri node, HttpMethod method, string path, object? body = null, string? idempotencyKey = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(method, new Uri(node, path));
        if (body is not null) request.Content = JsonContent.Create(body, options: Json);
        if (idempotencyKey is not null) request.Headers.Add(RaftMallHeaders.IdempotencyKey, idempotencyKey);
        return await http.SendAsync(request);
    }
}
