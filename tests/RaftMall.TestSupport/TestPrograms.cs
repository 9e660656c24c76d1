using System.Reflection;

namespace RaftMall.TestSupport;

/// <summary>The programs the tests start, as built beside them.</summary>
public static class TestPrograms
{
    public static string NodeDll { get; } = Built("RaftNodeDll");

    public static string PointsDll { get; } = Built("LoyaltyPointsDll");

    private static string Built(string key) =>
        Path.GetFullPath(typeof(TestPrograms).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);
}
