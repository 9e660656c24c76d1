using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using RaftMall.Node.Consensus;

namespace RaftMall.Node.InProcessTests;

/// <summary>
/// Some of the node's endpoints over HTTP in this process (Kestrel on a free 127.0.0.1 port), in front of a
/// <see cref="Node"/>'s settings, state and fake consensus: what a client sees.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ApiHost(WebApplication app, HttpClient http)
    {
        _app = app;
        Http = http;
    }

    /// <summary>A client of the endpoints (its base address is the host's).</summary>
    public HttpClient Http { get; }

    /// <summary>Starts the endpoints that <paramref name="map"/> maps, with <paramref name="time"/> as the node's clock and what <paramref name="services"/> adds.</summary>
    public static async Task<ApiHost> StartAsync(Node node, TimeProvider time, Action<WebApplication> map, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(node.Settings).AddSingleton(node.State).AddSingleton(time);
        builder.Services.AddSingleton<IConsensus>(node.Consensus).AddSingleton(node.Proposer);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ApiHost(app, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
