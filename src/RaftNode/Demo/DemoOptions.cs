namespace RaftMall.Node.Demo;

/// <summary>
/// The demo switch (configuration section RaftMall:Demo; env RaftMall__Demo__Enabled=true; `raftmall cluster up
/// --demo`). Off by default: without it no endpoint can crash or start a node or start a stream of orders.
/// </summary>
public sealed class DemoOptions
{
    public const string Section = "RaftMall:Demo";

    public bool Enabled { get; set; }

    /// <summary>The API key the order stream sends; by default the first writer key of the node's credentials.</summary>
    public string? ApiKey { get; set; }

    public static DemoOptions From(IConfiguration configuration) => configuration.GetSection(Section).Get<DemoOptions>() ?? new DemoOptions();
}
