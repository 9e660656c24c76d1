using RaftMall.Harness;

namespace RaftMall.TestSupport;

/// <summary>Runs only where network namespaces can be made (root, ip, iptables); says why otherwise.</summary>
public sealed class NamespacesFactAttribute : FactAttribute
{
    public NamespacesFactAttribute()
    {
        // CI sets RAFTMALL_REQUIRE_NETNS=1: there a missing capability fails the test instead of skipping it.
        if (Network.Unavailable() is { } reason && Environment.GetEnvironmentVariable("RAFTMALL_REQUIRE_NETNS") != "1")
        {
            Skip = $"partitions need network namespaces: {reason}";
        }
    }
}
