using System.Reflection;

namespace RaftMall.TestSupport;

/// <summary>The programs the tests start, as built beside them.</summary>
public static class TestPrograms
{
    public static string NodeDll { get; } = Built("RaftNodeDll");

    public static string PointsDll { get; } = Built("LoyaltyPointsDll");

    public static string StockConsumerDll { get; } = Built("StockConsumerDll");

    /// <summary>The raftmall tool (raftmall.dll), run as a process by <see cref="CliProcess"/>.</summary>
    public static string CliDll { get; } = Built("RaftMallCliDll");

    /// <summary>The tool's project file and the configuration its tested build has (to pack that build).</summary>
    public static (string Project, string Configuration) CliProject
    {
        get
        {
            var tfmDirectory = Path.GetDirectoryName(CliDll)!;                    // .../RaftMall.Cli/bin/Release/net10.0
            var configurationDirectory = Path.GetDirectoryName(tfmDirectory)!;    // .../RaftMall.Cli/bin/Release
            var project = Path.GetFullPath(Path.Combine(configurationDirectory, "..", "..", "RaftMall.Cli.csproj"));
            return (project, Path.GetFileName(configurationDirectory));
        }
    }

    /// <summary>The checkout the tested build was built from (its src/, samples/ and docs/).</summary>
    public static string RepositoryRoot => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(CliProject.Project)!, "..", "..", ".."));

    private static string Built(string key) =>
        Path.GetFullPath(typeof(TestPrograms).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);
}
