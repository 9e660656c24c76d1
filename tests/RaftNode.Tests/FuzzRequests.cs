using System.Text;

namespace RaftMall.Node.Tests;

/// <summary>One fuzzed request: method, path and query, headers and body, all as raw as HttpClient allows.</summary>
public sealed record FuzzRequest(string Node, string Method, string Path, string? Body, string? ContentType, List<(string Name, string Value)> Headers)
{
    public override string ToString() => $"{Method} {Path} [{string.Join("; ", Headers.Select(h => $"{h.Name}: {Clip(h.Value)}"))}] {Clip(Body ?? "")}";

    private static string Clip(string text) => text.Length > 80 ? text[..80] + $"...({text.Length})" : text;
}

/// <summary>
/// Random and mutated API requests from a seed: valid templates (so some succeed and change the state), mutated
/// JSON (flipped, cut, duplicated bytes, wrong types, huge numbers, deep nesting), odd paths and query strings,
/// wrong or missing credentials, and idempotency keys that are fresh, reused, too long or malformed.
/// </summary>
public sealed class FuzzRequests(int seed, IReadOnlyList<string> nodes, IReadOnlyDictionary<string, string> keys)
{
    private static readonly string[] Skus = ["s1", "s2", "s3", "nosuch", "", "s1/../s2", "%00", "ünï", new string('x', 129), "a b"];
    private static readonly string[] KvKeys = ["k1", "k2", "dir/k3", "", "%2F", "..", new string('k', 257), "k\u0000", "ключ", "a?b"];
    private static readonly string[] Methods = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    private static readonly string[] ContentTypes = ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"];
    private static readonly string[] Weird = ["-1", "0", "9223372036854775807", "9223372036854775808", "1e400", "NaN", "null", "true", "\"\"", "[]", "{}", "\"\\u0000\"", "1.5"];

    private readonly Random _random = new(seed);
    private readonly List<string> _usedKeys = [];

    public FuzzRequest Next()
    {
        var node = nodes[_random.Next(nodes.Count)];
        var (method, path, body) = Template();
        if (Chance(0.08)) method = Pick(Methods);
        if (Chance(0.15)) path = MutatePath(path);
        if (body is not null && Chance(0.35)) body = MutateJson(body);
        if (Chance(0.05)) body = RandomText(_random.Next(0, 300));
        var headers = new List<(string, string)>();
        var auth = _random.Next(100);
        if (auth < 80) headers.Add(("Authorization", "Bearer " + keys["admin"]));
        else if (auth < 86) headers.Add(("Authorization", "Bearer " + keys[Pick(["writer", "reader"])]));
        else if (auth < 90) headers.Add(("Authorization", Pick(["Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bearer " + keys["admin"] + "x", "Bearer " + RandomText(40)])));
        else if (auth < 93) headers.Add(("X-Api-Key", Chance(0.5) ? keys["admin"] : RandomText(30)));
        if (method is not ("GET" or "HEAD") && Chance(0.6)) headers.Add(("Idempotency-Key", IdempotencyKey()));
        if (Chance(0.05)) headers.Add(("Idempotency-Key", IdempotencyKey()));
        if (Chance(0.08)) headers.Add(("If-Match", Pick(["0", "1", "\"2\"", "-1", "abc", "99999999999999999999", "*"])));
        if (Chance(0.03)) headers.Add(("Accept", Pick(["text/html", "*/*", "application/xml", ""])));
        if (Chance(0.03)) headers.Add(("RaftMall-Forwarded-By", Pick(["n1", "x", ""])));
        var contentType = body is null ? null : Chance(0.9) ? "application/json" : Pick(ContentTypes);
        return new FuzzRequest(node, method, path, body, contentType, headers);
    }

    private (string Method, string Path, string? Body) Template() => _random.Next(14) switch
    {
        0 => ("PUT", $"/api/stock/{Pick(Skus)}", $"{{\"available\":{Pick(["1000", "0", "5", "-5", "1000000001", "\"7\"", "null"])}}}"),
        1 => ("GET", Pick(["/api/stock", $"/api/stock/{Pick(Skus)}"]) + Query(), null),
        2 => ("POST", "/api/orders/tokens", $"{{\"userId\":\"{Pick(["u1", "u2", "", "x"])}\"{(Chance(0.3) ? $",\"ttlSeconds\":{Pick(Weird)}" : "")}}}"),
        3 or 4 => ("POST", "/api/orders", Order()),
        5 => ("POST", $"/api/orders/{Pick(["1", "2", "3", "0", "-1", "abc", "99999999999999999999", "1.0"])}/{Pick(["pay", "cancel", "refund", ""])}", null),
        6 => ("GET", Pick(["/api/orders", $"/api/orders/{Pick(["1", "x", "-3", "18446744073709551616"])}"]) + Query(), null),
        7 or 8 => ("PUT", $"/api/kv/{Pick(KvKeys)}", $"{{\"value\":{Pick(["\"v\"", "\"\"", "1", "null", "{\"a\":1}", $"\"{new string('v', _random.Next(10, 2000))}\""])}}}"),
        9 => ("GET", $"/api/kv/{Pick(KvKeys)}" + Query(), null),
        10 => ("DELETE", $"/api/kv/{Pick(KvKeys)}", null),
        11 => ("GET", "/api/events" + Pick(["", "?after=0&limit=5", "?after=-1", "?limit=0", "?limit=100000", "?waitSeconds=31", "?after=x", "?waitSeconds=0&after=999999"]), null),
        12 => ("GET", Pick(["/api/cluster", "/api/cluster/state-hash", "/api", "/api/", "/health/live", "/health/ready", "/openapi/v1.json", "/nope", "/api/../api/cluster"]) + Query(), null),
        _ => (Pick(Methods), "/api/" + RandomSegment() + (Chance(0.5) ? "/" + RandomSegment() : ""), Chance(0.5) ? RandomText(50) : null),
    };

    private string Order()
    {
        var count = Chance(0.05) ? _random.Next(45, 60) : _random.Next(0, 4);
        var items = string.Join(',', Enumerable.Range(0, count).Select(_ => $"{{\"sku\":\"{Pick(Skus)}\",\"quantity\":{Pick(["1", "2", "0", "-1", "10001", "\"1\"", "1.5"])}}}"));
        var extra = Chance(0.3) ? $",\"ttlSeconds\":{Pick(Weird)}" : "";
        var token = Chance(0.2) ? $",\"token\":\"{Pick(["tok_x", "", "tok_" + RandomText(8)])}\"" : "";
        return $"{{\"userId\":\"{Pick(["u1", "u2", "", new string('u', 129)])}\",\"items\":[{items}]{extra}{token}}}";
    }

    private string MutatePath(string path) => _random.Next(6) switch
    {
        0 => path + "/" + RandomSegment(),
        1 => path.Replace("/api", Pick(["/API", "/api/", "//api", "/ap%69"]), StringComparison.Ordinal),
        2 => path + "?" + RandomSegment() + "=" + RandomSegment(),
        3 => path + Pick(["%", "%zz", "%00", "%FF%FE", "#frag", "/.", "/.."]),
        4 => path.Length > 5 ? path[..^_random.Next(1, 5)] : path,
        _ => path + "/" + new string('a', _random.Next(100, 3000)),
    };

    private string MutateJson(string json)
    {
        var bytes = new StringBuilder(json);
        switch (_random.Next(8))
        {
            case 0: bytes.Length = _random.Next(0, json.Length); break; // truncated
            case 1: bytes[_random.Next(bytes.Length)] = (char)_random.Next(32, 127); break; // one character flipped
            case 2: bytes.Insert(_random.Next(bytes.Length), Pick(["{", "}", "[", "]", ",", ":", "\"", "\\", "\u0000", "\ud800"])); break;
            case 3: return json.Replace(":", ":" + Pick(Weird) + ",\"x\":", StringComparison.Ordinal);
            case 4: return string.Concat(Enumerable.Repeat("[", _random.Next(10, 300))) + json;
            case 5: return json + json;
            case 6: return json.Replace("\"", "'", StringComparison.Ordinal);
            default: return "{\"" + RandomSegment() + "\":" + Pick(Weird) + "}";
        }
        return bytes.ToString();
    }

    private string Query() => Chance(0.3) ? "?" + Pick(["consistency=local", "consistency=bogus", "limit=-1", "after=abc", "userId=u1&status=paid", "status=nope", "limit=1001", RandomSegment()]) : "";

    private string IdempotencyKey()
    {
        if (_usedKeys.Count > 0 && Chance(0.25)) return Pick(_usedKeys); // reuse: same or different request
        var key = _random.Next(10) switch
        {
            0 => new string('k', _random.Next(120, 140)),
            1 => "",
            2 => "k\u00e9y",
            3 => RandomText(_random.Next(1, 40)),
            _ => "f" + _random.NextInt64().ToString("x", System.Globalization.CultureInfo.InvariantCulture),
        };
        _usedKeys.Add(key);
        return key;
    }

    private string RandomSegment() => Uri.EscapeDataString(RandomText(_random.Next(1, 12)));

    /// <summary>Printable ASCII and some Latin-1 (what HttpClient will put in a header; bodies get more from MutateJson).</summary>
    private string RandomText(int length)
    {
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++) text.Append(Chance(0.9) ? (char)_random.Next(33, 127) : Pick(['é', 'ß', 'ÿ', '£']));
        return text.ToString();
    }

    private bool Chance(double p) => _random.NextDouble() < p;

    private T Pick<T>(IReadOnlyList<T> options) => options[_random.Next(options.Count)];
}
