using System.Security.Cryptography;
using System.Text;
using RaftMall.StateMachine;

namespace RaftMall.Node.Security;

/// <summary>Which cluster a data directory belongs to, and which member of it.</summary>
/// <param name="ClusterId">The same on every member of a cluster (derived from its bootstrap list, or received at join).</param>
/// <param name="MemberId">Random, made once for this data directory: a wiped disk never gets it back.</param>
public sealed record IdentityRecord(string ClusterId, string MemberId);

/// <summary>
/// This node's identity, kept in <c>&lt;data&gt;/&lt;node&gt;/identity</c> beside its Raft log. A member signs it into
/// every Raft request (<see cref="PeerSigner"/>) and peers check it against the replicated member directory
/// (<see cref="PeerIdentityCheck"/>). A node without one (it joins, or its data directory was wiped and it was told to
/// join) takes part in nothing until a leader adds it and hands it one (<see cref="Adopt"/>).
/// </summary>
public sealed partial class NodeIdentity(NodeSettings settings, NodeSecurity security, ILogger<NodeIdentity> logger)
{
    private const string FileName = "identity";
    private readonly Lock _lock = new();
    private IdentityRecord? _current;

    /// <summary>Bytes of randomness in a member id (64 bits: two data directories never draw the same).</summary>
    public const int MemberIdBytes = 8;

    /// <summary>This node's identity, or null while it waits to be added.</summary>
    public IdentityRecord? Current => Volatile.Read(ref _current);

    public string FilePath => Path.Combine(settings.DataDirectory, FileName);

    /// <summary>How a node came by its identity at startup.</summary>
    public enum Start
    {
        /// <summary>The identity file was there.</summary>
        Loaded,

        /// <summary>A bootstrap node's first start: the cluster id from the bootstrap list, a new member id.</summary>
        Created,

        /// <summary>A data directory from before node identity (a log, no identity file): as <see cref="Created"/>.</summary>
        Migrated,

        /// <summary>No identity: the node waits until a leader adds it as a new member.</summary>
        None,
    }

    /// <summary>
    /// Loads the identity file, or creates one on a bootstrap node's first start (<paramref name="bootstrap"/>) and on
    /// the first start of a data directory that predates identity (<paramref name="migrating"/>). A joining node gets none.
    /// Throws <see cref="ClusterFileException"/> when the file exists but cannot be read: a node must not guess who it is.
    /// </summary>
    public Start Establish(bool bootstrap, bool migrating)
    {
        if (File.Exists(FilePath))
        {
            Set(Read(FilePath));
            return Log(Start.Loaded);
        }
        if (!bootstrap && !migrating) return Log(Start.None);
        Write(new IdentityRecord(DeriveClusterId(settings.Cluster, security.PeerKey), NewMemberId()));
        return Log(migrating ? Start.Migrated : Start.Created);

        Start Log(Start start)
        {
            LogEstablished(settings.NodeId, start, Current?.ClusterId ?? "-", Current?.MemberId ?? "-");
            return start;
        }
    }

    /// <summary>What became of an identity a leader offered.</summary>
    public enum AdoptOutcome
    {
        Adopted,
        OtherCluster,
        Invalid,
    }

    /// <summary>
    /// Takes the identity a leader hands a node it is about to add: always a new member id, so whatever this data
    /// directory did before (a removed member, a wiped one that bootstrapped itself) it joins as a new member. Refused
    /// when the directory belongs to another cluster (an operator must empty it) or the offer is malformed.
    /// </summary>
    public AdoptOutcome Adopt(IdentityRecord offered)
    {
        ArgumentNullException.ThrowIfNull(offered);
        if (Validation.CheckId(offered.ClusterId, "cluster id") is not null || Validation.CheckId(offered.MemberId, "member id") is not null) return AdoptOutcome.Invalid;
        lock (_lock)
        {
            if (Current is { } mine && mine.ClusterId != offered.ClusterId) return AdoptOutcome.OtherCluster;
            Write(offered);
        }
        LogAdopted(settings.NodeId, offered.ClusterId, offered.MemberId);
        return AdoptOutcome.Adopted;
    }

    /// <summary>
    /// The cluster id of a new cluster: an HMAC of its bootstrap addresses (sorted) under the peer secret. Every
    /// bootstrap node computes the same id from what it already reads (cluster.yml and the credentials), so a new
    /// cluster needs no round of agreement, and the data directories of an older version migrate without one. Two
    /// clusters get different ids when their bootstrap lists or their peer secrets differ.
    /// </summary>
    public static string DeriveClusterId(ClusterFile cluster, byte[] peerKey)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var addresses = cluster.Nodes.Select(n => n.Uri.GetLeftPart(UriPartial.Authority)).Order(StringComparer.Ordinal);
        var text = "raftmall-cluster-id-v1\n" + string.Join('\n', addresses);
        return Convert.ToHexStringLower(HMACSHA256.HashData(peerKey, Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
    }

    public static string NewMemberId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(MemberIdBytes));

    private void Set(IdentityRecord identity) => Volatile.Write(ref _current, identity);

    /// <summary>Writes the file by rename after a flush, so a crash leaves the old identity or the new one, never half of one.</summary>
    private void Write(IdentityRecord identity)
    {
        Directory.CreateDirectory(settings.DataDirectory);
        var temporary = FilePath + ".new";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes($"clusterId={identity.ClusterId}\nmemberId={identity.MemberId}\n"));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, FilePath, overwrite: true);
        Set(identity);
    }

    /// <summary>Reads an identity file; throws <see cref="ClusterFileException"/> naming the file when it is not one.</summary>
    public static IdentityRecord Read(string path)
    {
        var fields = File.ReadAllLines(path)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim(), StringComparer.Ordinal);
        var clusterId = fields.GetValueOrDefault("clusterId");
        var memberId = fields.GetValueOrDefault("memberId");
        if (Validation.CheckId(clusterId, "clusterId") is not null || Validation.CheckId(memberId, "memberId") is not null)
        {
            throw new ClusterFileException($"the identity file {path} is not valid (it needs clusterId=<id> and memberId=<id>); "
                + "restore it from a backup, or remove this member, empty its data directory and add it again as a new member");
        }
        return new IdentityRecord(clusterId!, memberId!);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeId}: identity {Start}: cluster {ClusterId}, member {MemberId}")]
    private partial void LogEstablished(string nodeId, Start start, string clusterId, string memberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {NodeId}: adopted the identity a leader offered: cluster {ClusterId}, member {MemberId} (joins as a new member)")]
    private partial void LogAdopted(string nodeId, string clusterId, string memberId);
}
