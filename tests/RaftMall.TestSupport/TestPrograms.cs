using System.Reflection;

namespace RaftMall.TestSupport;

/// <summary>The programs the tests start, as built beside them.</summary>
public static class TestPrograms
{
    public static string NodeDll { get; } = Built("RaftNodeDll");

    public static string PointsDll { get; } = Built("LoyaltyPointsDll");

    /// <summary>The raftmall tool (raftmall.dll), run as a process by <see cref="CliProcess"/>.</summary>
    public static string CliDll { get; } = Built("RaftMallCliDll");

    private static string Built(string key) =>
        Path.GetFullPath(typeof(TestPrograms).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);
}
