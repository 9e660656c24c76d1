namespace RaftMall.Node.Demo;

/// <summary>
/// The demo switch (configuration section RaftMall:Demo; env RaftMall__Demo__Enabled=true; `raftmall cluster up
/// --demo`). Off by default: without it no endpoint can crash or start a node or start a stream of orders.
/// </summary>
public sealed class DemoOptions
{
    public const string Section = "RaftMall:Demo";

    public bool Enabled { get; set; }

    /// <summary>An API key the order stream sends as a bearer token, for clusters that require one.</summary>
    public string? ApiKey { get; set; }

    public static DemoOptions From(IConfiguration configuration) => configuration.GetSection(Section).Get<DemoOptions>() ?? new DemoOptions();
}

/// <summary>Adds <c>Authorization: Bearer</c> to every request when a key is configured.</summary>
internal sealed class BearerHandler(string? apiKey) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new("Bearer", apiKey);
        return base.SendAsync(request, cancellationToken);
    }
}
