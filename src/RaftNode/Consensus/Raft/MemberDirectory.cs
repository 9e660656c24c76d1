using System.Collections.Concurrent;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.AspNetCore.Connections;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// The members of DotNext's active configuration under their node ids. DotNext knows a member by its address only;
/// each node publishes its id in its Raft metadata (<see cref="NodeIdKey"/>), which is fetched once per address and
/// kept. Until it arrives a member is named by the bootstrap list (cluster.yml) or, failing that, by its address.
/// </summary>
public sealed partial class MemberDirectory(NodeSettings settings, TimeProvider time, ILogger<MemberDirectory> logger)
{
    /// <summary>The metadata key under which a node publishes its id to its peers.</summary>
    public const string NodeIdKey = "raftmall-node-id";

    private readonly ConcurrentDictionary<string, string> _ids = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _asking = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _failedAt = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A member that did not tell its id is asked again after this long, not at every read of the members.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    /// <summary>How long a member may take to send its metadata.</summary>
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The members of <paramref name="cluster"/>'s configuration as nodes; starts learning the ids it lacks.</summary>
    public IReadOnlyList<ClusterNode> Members(IRaftCluster cluster)
    {
        var members = new List<ClusterNode>();
        foreach (var member in cluster.Members)
        {
            if (AddressOf(member.EndPoint) is not { } address) continue;
            members.Add(NodeAt(address));
            if (member.IsRemote) Learn(member, address);
        }
        members.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return members;
    }

    /// <summary>The member at <paramref name="endPoint"/>, named as well as this node knows it.</summary>
    public ClusterNode? NodeAt(System.Net.EndPoint? endPoint) => AddressOf(endPoint) is { } address ? NodeAt(address) : null;

    /// <summary>The node at <paramref name="address"/>: this node, a learned id, a bootstrap node, or the address itself.</summary>
    public ClusterNode NodeAt(Uri address)
    {
        if (NodeSettings.SameAuthority(settings.Self.Uri, address)) return settings.Self;
        var authority = Authority(address);
        if (_ids.TryGetValue(authority, out var id)) return new ClusterNode { Id = id, Address = authority };
        if (settings.BootstrapNodeAt(address) is { } listed) return listed;
        return new ClusterNode { Id = address.Authority, Address = authority };
    }

    /// <summary>The address of a DotNext member's end point (its base URL), if it has one.</summary>
    public static Uri? AddressOf(System.Net.EndPoint? endPoint) => endPoint switch
    {
        UriEndPoint uri => uri.Uri,
        null => null,
        _ => Uri.TryCreate(endPoint.ToString(), UriKind.Absolute, out var parsed) ? parsed : null,
    };

    private static string Authority(Uri address) => address.GetLeftPart(UriPartial.Authority);

    /// <summary>Starts learning the id of a member as soon as DotNext adds it (not only when the members are read).</summary>
    public void Learn(IClusterMember member)
    {
        if (member.IsRemote && AddressOf(member.EndPoint) is { } address) Learn(member, address);
    }

    private void Learn(IClusterMember member, Uri address)
    {
        var authority = Authority(address);
        if (_ids.ContainsKey(authority)) return;
        if (_failedAt.TryGetValue(authority, out var failed) && time.GetUtcNow() - failed < RetryAfterFailure) return;
        if (!_asking.TryAdd(authority, 0)) return;
        _ = LearnAsync(member, authority);
    }

    private async Task LearnAsync(IClusterMember member, string authority)
    {
        try
        {
            using var timeout = new CancellationTokenSource(MetadataTimeout, time);
            var metadata = await member.GetMetadataAsync(refresh: false, timeout.Token).ConfigureAwait(false);
            if (metadata.TryGetValue(NodeIdKey, out var id) && id.Length > 0)
            {
                _ids[authority] = id;
                _failedAt.TryRemove(authority, out _);
                LogLearned(id, authority);
            }
            else
            {
                _failedAt[authority] = time.GetUtcNow(); // a node that publishes no id keeps its address as its name
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unreachable or not answering yet: a read of the members after RetryAfterFailure asks again.
            _failedAt[authority] = time.GetUtcNow();
            LogNotLearned(authority, e);
        }
        finally
        {
            _asking.TryRemove(authority, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "member {NodeId} is at {Address}")]
    private partial void LogLearned(string nodeId, string address);

    [LoggerMessage(Level = LogLevel.Debug, Message = "could not learn the id of the member at {Address}")]
    private partial void LogNotLearned(string address, Exception exception);
}
