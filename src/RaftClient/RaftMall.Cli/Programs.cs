using System.Reflection;

namespace RaftMall.Cli;

/// <summary>
/// Where the programs this tool starts are: the node and the sample participant, as built beside it (paths baked in
/// at build time), or as RAFTMALL_NODE_DLL / RAFTMALL_POINTS_DLL say.
/// </summary>
public static class Programs
{
    public static string NodeDll() => Locate("RAFTMALL_NODE_DLL", "RaftNodeDll");

    public static string PointsDll() => Locate("RAFTMALL_POINTS_DLL", "LoyaltyPointsDll");

    private static string Locate(string variable, string metadataKey)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
        var built = typeof(Programs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == metadataKey).Value!;
        return Path.GetFullPath(built);
    }
}
