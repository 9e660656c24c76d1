using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaftMall.Node.Api;

/// <summary>Strict JSON request bodies: malformed JSON, wrong types and unknown fields are 400s with a clear detail.</summary>
public static class JsonBody
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>Reads the body as <typeparamref name="T"/>; on failure returns the problem to answer instead.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken token) where T : class
    {
        if (request.ContentLength == 0) return (null, Problems.Validation("a JSON body is required"));
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, token).ConfigureAwait(false);
            return value is null ? (null, Problems.Validation("a JSON object body is required")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Of(StatusCodes.Status400BadRequest, "malformed_json", e.Message));
        }
    }
}
