using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RaftMall.Node.Tests;

/// <summary>One 3-node cluster and its OpenAPI document, shared by the document tests.</summary>
public sealed class OpenApiCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new();

    public JsonObject Document { get; private set; } = null!;

    public Uri Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Cluster.StartAllAsync();
        Node = Cluster.Address(await Cluster.WaitForLeaderAsync());
        using var anonymous = new HttpClient();
        Document = JsonNode.Parse(await anonymous.GetStringAsync(new Uri(Node, "/openapi/v1.json")))!.AsObject(); // public, like the health checks
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The OpenAPI document against the node that serves it: what the document declares (bodies, roles, parameters,
/// problem codes) is checked against what the node enforces, and requests built from the document alone — paths,
/// bodies, headers and keys generated from its schemas — get answers the document lists, with bodies that match
/// the documented schemas and codes.
/// </summary>
public sealed class OpenApiTests(OpenApiCluster fixture, ITestOutputHelper output) : IClassFixture<OpenApiCluster>
{
    private JsonObject Document => fixture.Document;

    private Uri Node => fixture.Node;

    [Fact]
    public async Task Every_operation_declares_the_role_body_and_consistency_the_node_enforces()
    {
        var operations = Operations().ToList();
        Assert.True(operations.Count >= 19, $"only {operations.Count} operations under /api");
        Assert.Equal("bearer", Document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>());
        Assert.Contains("code", Schema("ProblemDetails")["required"]!.AsArray().Select(n => n!.GetValue<string>()));

        foreach (var (method, path, operation) in operations)
        {
            var what = $"{method} {path}";
            Assert.True(operation["security"]?.AsArray().Any(r => r!.AsObject().ContainsKey("bearer")) == true, $"{what}: no bearer requirement");
            var role = operation["x-raftmall-role"]?.GetValue<string>();
            Assert.True(role is "reader" or "writer" or "admin", $"{what}: role {role}");
            foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => r.Key[0] is '4' or '5'))
            {
                Assert.True(response!["x-raftmall-problem-codes"]?.AsArray().Count > 0, $"{what}: {status} lists no problem code");
            }

            // The role: a key of the role below is refused (403), no key at all is 401.
            var url = new Uri(Node, Fill(path, operation));
            var below = role switch { "admin" => TestCluster.TestKeys.Writer, "writer" => TestCluster.TestKeys.Reader, _ => null };
            if (below is not null) AssertProblem(await SendAsync(method, url, below), 403, "forbidden", what);
            AssertProblem(await SendAsync(method, url, key: null), 401, "unauthenticated", what);

            // The body: a write that refuses an empty body reads one, and then the document declares it.
            var key = KeyFor(role);
            if (method is "POST" or "PUT")
            {
                var answer = await SendAsync(method, url, key, emptyBody: true);
                var needsBody = answer.Status == 400 && answer.Body.Contains("a JSON body is required", StringComparison.Ordinal);
                Assert.True(needsBody == operation.ContainsKey("requestBody"), $"{what}: reads a body {needsBody}, documents one {operation.ContainsKey("requestBody")} ({answer.Status} {answer.Body})");
            }

            // The consistency parameter: a read that checks it documents it, and one that documents it checks it.
            if (method == "GET")
            {
                var answer = await SendAsync(method, new Uri(url + (url.Query.Length > 0 ? "&" : "?") + "consistency=sometimes"), key);
                var checks = answer.Status == 400 && answer.Body.Contains("consistency", StringComparison.Ordinal);
                Assert.True(checks == Parameters(operation).Any(p => p["name"]!.GetValue<string>() == "consistency"), $"{what}: checks consistency {checks}");
            }
            else if (!path.StartsWith("/api/cluster/members", StringComparison.Ordinal))
            {
                // Membership changes are not state-machine commands: a repeated add or remove finds the change made.
                Assert.True(Parameters(operation).Any(p => p["name"]!.GetValue<string>() == RaftMallHeaders.IdempotencyKey), $"{what}: a write without the Idempotency-Key parameter");
            }
        }
    }

    [Fact]
    public async Task A_request_built_only_from_the_document_gets_a_documented_answer()
    {
        var successes = 0;
        foreach (var (method, path, operation) in Operations())
        {
            var what = $"{method} {path}";
            var url = new Uri(Node, Fill(path, operation));
            var body = operation["requestBody"]?["content"]?["application/json"]?["schema"] is { } schema ? Example(schema) : null;
            var idempotencyKey = Parameters(operation).Any(p => p["name"]!.GetValue<string>() == RaftMallHeaders.IdempotencyKey) ? Guid.NewGuid().ToString("N") : null;
            var key = KeyFor(operation["x-raftmall-role"]!.GetValue<string>());
            var answer = await SendAsync(method, url, key, body: body?.ToJsonString(), idempotencyKey: idempotencyKey);
            output.WriteLine($"{what} {body?.ToJsonString()} -> {answer.Status} {answer.Body[..Math.Min(answer.Body.Length, 160)]}");

            var responses = operation["responses"]!.AsObject();
            var status = answer.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(responses.ContainsKey(status), $"{what}: answered {status}, documents {string.Join(", ", responses.Select(r => r.Key))}");
            var documented = responses[status]!;
            if (answer.Status >= 400)
            {
                var code = JsonNode.Parse(answer.Body)!["code"]!.GetValue<string>();
                Assert.Contains(code, documented["x-raftmall-problem-codes"]!.AsArray().Select(n => n!.GetValue<string>()));
                continue;
            }
            successes++;
            if (documented["content"]?["application/json"]?["schema"] is { } answerSchema)
            {
                var problems = new List<string>();
                Validate(JsonNode.Parse(answer.Body), answerSchema, "$", problems);
                Assert.True(problems.Count == 0, $"{what}: the answer does not match its schema: {string.Join("; ", problems)}\n{answer.Body}");
            }
            if (idempotencyKey is not null)
            {
                // The documented Idempotency-Key does what it says: the same request again gets the first answer.
                var again = await SendAsync(method, url, key, body: body?.ToJsonString(), idempotencyKey: idempotencyKey);
                Assert.Equal((answer.Status, answer.Body), (again.Status, again.Body));
            }
        }
        Assert.True(successes >= 8, $"only {successes} operations succeeded: the generated requests exercise too few answer schemas");
    }

    private IEnumerable<(string Method, string Path, JsonObject Operation)> Operations() =>
        from path in Document["paths"]!.AsObject()
        where path.Key.StartsWith("/api/", StringComparison.Ordinal)
        from operation in path.Value!.AsObject()
        select (operation.Key.ToUpperInvariant(), path.Key, operation.Value!.AsObject());

    private static IEnumerable<JsonNode> Parameters(JsonObject operation) => operation["parameters"]?.AsArray().Select(p => p!) ?? [];

    private JsonObject Schema(string name) => Document["components"]!["schemas"]![name]!.AsObject();

    private JsonNode Resolve(JsonNode schema) =>
        schema["$ref"] is { } reference ? Schema(reference.GetValue<string>()["#/components/schemas/".Length..]) : schema;

    /// <summary>The path with every path parameter replaced by a value of its schema's type.</summary>
    private string Fill(string path, JsonObject operation)
    {
        foreach (var parameter in Parameters(operation).Where(p => p["in"]!.GetValue<string>() == "path"))
        {
            var name = parameter["name"]!.GetValue<string>();
            path = path.Replace("{" + name + "}", Example(parameter["schema"]!)!.ToString(), StringComparison.Ordinal);
        }
        return path;
    }

    /// <summary>A value of the schema: every property of an object, one item of an array, the first of an enum.</summary>
    private JsonNode? Example(JsonNode schema)
    {
        schema = Resolve(schema);
        if (schema["enum"] is JsonArray values) return values[0]?.DeepClone();
        var types = Types(schema);
        if (types.Contains("object") || schema["properties"] is not null)
        {
            var value = new JsonObject();
            foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
            {
                if (Types(Resolve(property!)).Count > 0 || Resolve(property!)["properties"] is not null) value[name] = Example(property!);
            }
            return value;
        }
        if (types.Contains("array")) return new JsonArray(Example(schema["items"]!));
        if (types.Contains("integer") || types.Contains("number")) return JsonValue.Create(Math.Max(1, schema["minimum"]?.GetValue<long>() ?? 1));
        if (types.Contains("boolean")) return JsonValue.Create(false);
        if (types.Contains("string")) return JsonValue.Create("doc-1");
        return null;
    }

    /// <summary>Checks <paramref name="value"/> against the schema: types, required properties, no undeclared ones, recursively.</summary>
    private void Validate(JsonNode? value, JsonNode schema, string at, List<string> problems)
    {
        schema = Resolve(schema);
        var types = Types(schema);
        var kind = value switch
        {
            null => "null",
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v when v.TryGetValue<bool>(out _) => "boolean",
            JsonValue v when v.TryGetValue<string>(out _) => "string",
            JsonValue v when v.TryGetValue<long>(out _) => "integer",
            _ => "number",
        };
        if (types.Count > 0 && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
        {
            problems.Add($"{at} is {kind}, the schema says {string.Join("|", types)}");
            return;
        }
        if (value is JsonObject obj)
        {
            var properties = schema["properties"]?.AsObject();
            foreach (var required in schema["required"]?.AsArray().Select(n => n!.GetValue<string>()) ?? [])
            {
                if (!obj.ContainsKey(required)) problems.Add($"{at}.{required} is required and missing");
            }
            foreach (var (name, child) in obj)
            {
                if (properties?[name] is { } propertySchema) Validate(child, propertySchema, $"{at}.{name}", problems);
                else if (schema["additionalProperties"] is JsonValue allowed && !allowed.GetValue<bool>()) problems.Add($"{at}.{name} is not in the schema");
            }
        }
        else if (value is JsonArray array && schema["items"] is { } items)
        {
            for (var i = 0; i < array.Count; i++) Validate(array[i], items, $"{at}[{i}]", problems);
        }
    }

    private static List<string> Types(JsonNode schema) => schema["type"] switch
    {
        JsonArray many => [.. many.Select(t => t!.GetValue<string>())],
        JsonValue one => [one.GetValue<string>()],
        _ => [],
    };

    private static string KeyFor(string? role) => role switch
    {
        "admin" => TestCluster.TestKeys.Admin,
        "writer" => TestCluster.TestKeys.Writer,
        _ => TestCluster.TestKeys.Reader,
    };

    private static async Task<(int Status, string Body)> SendAsync(string method, Uri url, string? key, bool emptyBody = false, string? body = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (idempotencyKey is not null) request.Headers.Add(RaftMallHeaders.IdempotencyKey, idempotencyKey);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        else if (emptyBody) request.Content = new ByteArrayContent([]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        using var client = new HttpClient(); // no default key: each request carries the one the test chose
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static void AssertProblem((int Status, string Body) answer, int status, string code, string what)
    {
        Assert.True(answer.Status == status, $"{what}: expected {status} {code}, got {answer.Status} {answer.Body}");
        Assert.Equal(code, JsonNode.Parse(answer.Body)!["code"]!.GetValue<string>());
    }
}
