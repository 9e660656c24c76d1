using System.IO.Compression;
using System.Xml.Linq;

namespace RaftMall.Client.Tests;

/// <summary>
/// The client as a shop adopts it: the RaftMall.Client package (and RaftMall.Contract, its one RaftMall dependency)
/// restored from a local folder into a throwaway project outside the checkout, registered with
/// <c>services.AddRaftMallClient</c>, placing an order on a test cluster. CI packs the solution into that folder
/// first (<c>RAFTMALL_PACKAGES_DIR</c>); without it the test packs the tested build itself.
/// </summary>
public class PackageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_client_package_restores_in_a_new_project_and_places_an_order()
    {
        var root = Path.Combine(Path.GetTempPath(), "raftmall-tests", "package-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var packages = await PackagesAsync(root);
            var client = Nuspec(packages, "RaftMall.Client");
            var dependencies = Dependencies(client);
            Assert.Contains("RaftMall.Contract", dependencies);
            Assert.Contains("Microsoft.Extensions.Http", dependencies);
            Assert.DoesNotContain(dependencies, d => d.Contains("Yaml", StringComparison.OrdinalIgnoreCase) || d.Contains("DotNext", StringComparison.Ordinal)
                || d is "RaftMall.Configuration" or "RaftNode" or "RaftMall.StateMachine");
            Assert.Empty(Dependencies(Nuspec(packages, "RaftMall.Contract")));
            var metadata = client.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            Assert.Equal("MIT", metadata.Elements().Single(e => e.Name.LocalName == "license").Value);
            Assert.Equal("README.md", metadata.Elements().Single(e => e.Name.LocalName == "readme").Value);

            await using var cluster = new TestCluster(output: output);
            await cluster.StartAllAsync();
            await cluster.WaitForLeaderAsync();
            using var admin = new RaftMallClient(cluster.ClientOptions());
            await admin.SetStockAsync("pkg-apple", 5);

            var project = Path.Combine(root, "shop");
            WriteShopProject(project, packages, Version(client));
            var endpoints = string.Join(',', cluster.NodeIds.Select(id => cluster.Address(id).GetLeftPart(UriPartial.Authority)));
            var run = await CliProcess.RunProgramAsync("dotnet", ["run", "--project", project, "--", endpoints, TestCluster.TestKeys.Writer],
                new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root, "nuget") }, project); // no RaftMall package cached by an earlier run
            output.WriteLine(run.All);
            Assert.True(run.ExitCode == 0, run.All);

            var placed = run.Output.Split('\n').Single(l => l.StartsWith("placed order ", StringComparison.Ordinal)).Split(' ');
            var order = await admin.GetOrderAsync(long.Parse(placed[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(("pkg-user", "pending"), (order.UserId, order.Status));
            Assert.Equal(new StockLevel("pkg-apple", 3, 2, 0), await admin.GetStockAsync("pkg-apple"));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The folder with the packages: CI's, or the tested build packed here (--no-build: nothing is rebuilt under other tests).</summary>
    private static async Task<string> PackagesAsync(string root)
    {
        if (Environment.GetEnvironmentVariable("RAFTMALL_PACKAGES_DIR") is { Length: > 0 } ci) return ci;
        var folder = Path.Combine(root, "packages");
        var configuration = TestPrograms.CliProject.Configuration;
        foreach (var name in new[] { "RaftMall.Contract", "RaftMall.Client" })
        {
            var project = Path.Combine(TestPrograms.RepositoryRoot, "src", "RaftClient", name, name + ".csproj");
            var packed = await CliProcess.RunProgramAsync("dotnet", ["pack", project, "-c", configuration, "--no-build", "-o", folder, "-nologo"]);
            Assert.True(packed.ExitCode == 0, packed.All);
        }
        return folder;
    }

    private static XDocument Nuspec(string folder, string id)
    {
        var package = Directory.GetFiles(folder, id + ".*.nupkg").Where(p => !p.EndsWith(".snupkg", StringComparison.Ordinal))
            .Where(p => char.IsDigit(Path.GetFileName(p)[(id.Length + 1)..][0])) // RaftMall.Client.0.2.0, not RaftMall.ClientX
            .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
        Assert.True(package is not null, $"no {id} package in {folder}: {string.Join(", ", Directory.GetFiles(folder).Select(Path.GetFileName))}");
        using var zip = ZipFile.OpenRead(package);
        using var nuspec = zip.Entries.Single(e => e.FullName == id + ".nuspec").Open();
        return XDocument.Load(nuspec);
    }

    private static List<string> Dependencies(XDocument nuspec) =>
        [.. nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Distinct()];

    private static string Version(XDocument nuspec) => nuspec.Descendants().Single(e => e.Name.LocalName == "version").Value;

    /// <summary>A shop's program: registers the client, places one order with an idempotency key, prints its id.</summary>
    private static void WriteShopProject(string directory, string packages, string version)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="raftmall-local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, "Shop.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="RaftMall.Client" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            using Microsoft.Extensions.DependencyInjection;
            using RaftMall.Client;
            using RaftMall.Contract;

            var services = new ServiceCollection();
            services.AddRaftMallClient(options =>
            {
                options.Endpoints = [.. args[0].Split(',').Select(e => new Uri(e))];
                options.ApiKey = args[1];
            });
            await using var provider = services.BuildServiceProvider();
            var raftMall = provider.GetRequiredService<RaftMallClient>();
            var order = await raftMall.PlaceOrderAsync("pkg-user", [new OrderLine("pkg-apple", 2)], idempotencyKey: "checkout-1");
            var again = await raftMall.PlaceOrderAsync("pkg-user", [new OrderLine("pkg-apple", 2)], idempotencyKey: "checkout-1");
            if (again.OrderId != order.OrderId) throw new InvalidOperationException("the same idempotency key placed a second order");
            Console.WriteLine($"placed order {order.OrderId} {order.Status}");
            """);
    }
}
