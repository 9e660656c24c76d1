using System.Reflection;

namespace RaftMall.Cli;

/// <summary>
/// Where the programs this tool starts are: as RAFTMALL_NODE_DLL / RAFTMALL_POINTS_DLL / RAFTMALL_CONSUMER_DLL say; else
/// inside the installed tool package (node/, points/, consumer/ beside the tool); else as built beside it in a checkout (paths baked in at build time).
/// </summary>
public static class Programs
{
    public static string NodeDll() => Locate("RAFTMALL_NODE_DLL", Path.Combine("node", "RaftNode.dll"), "RaftNodeDll");

    public static string PointsDll() => Locate("RAFTMALL_POINTS_DLL", Path.Combine("points", "LoyaltyPoints.dll"), "LoyaltyPointsDll");

    public static string StockConsumerDll() => Locate("RAFTMALL_CONSUMER_DLL", Path.Combine("consumer", "StockConsumer.dll"), "StockConsumerDll");

    private static string Locate(string variable, string packaged, string metadataKey)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
        var beside = Path.Combine(AppContext.BaseDirectory, packaged);
        if (File.Exists(beside)) return beside;
        var built = typeof(Programs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == metadataKey).Value!;
        return Path.GetFullPath(built);
    }
}
