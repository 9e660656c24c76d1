using System.Globalization;
using System.Security.Cryptography;
using RaftMall.Contract;

namespace RaftMall.Configuration;

/// <summary>One API key: a name (for logs and rate limits), its role and the secret itself.</summary>
public sealed class ApiKeyEntry
{
    public string Name { get; set; } = "";
    public ClientRole Role { get; set; } = ClientRole.Reader;
    public string Key { get; set; } = "";

    /// <summary>A copy of every property, including ones added later.</summary>
    internal ApiKeyEntry Copy() => (ApiKeyEntry)MemberwiseClone();
}

/// <summary>
/// The secrets of a cluster: the peer secret (Raft requests between nodes are signed with it) and the client API
/// keys. Stored as an environment file (<c>RaftMall__PeerSecret=...</c>, <c>RaftMall__ApiKeys__0__Key=...</c>), the
/// same names a node reads from its environment, so one file serves <c>raftmall cluster up</c>, Docker Compose's
/// <c>env_file</c> and systemd's <c>EnvironmentFile</c>. Written with mode 0600.
/// </summary>
public sealed class ClusterCredentials
{
    /// <summary>Bytes of randomness in a generated peer secret and in a generated API key (256 bits each).</summary>
    public const int GeneratedSecretBytes = 32;

    /// <summary>The shortest peer secret a node accepts, in characters (a guessable secret is no secret).</summary>
    public const int MinPeerSecretLength = 32;

    /// <summary>The shortest API key a node accepts, in characters.</summary>
    public const int MinApiKeyLength = 24;

    public string PeerSecret { get; set; } = "";

    public List<ApiKeyEntry> ApiKeys { get; set; } = [];

    /// <summary>The first key with exactly <paramref name="role"/>, or null.</summary>
    public string? KeyFor(ClientRole role) => ApiKeys.Find(k => k.Role == role)?.Key;

    /// <summary>A fresh peer secret and one key per role (admin, writer, reader), from the OS's CSPRNG.</summary>
    public static ClusterCredentials Generate() => new()
    {
        PeerSecret = NewSecret("rmp_"),
        ApiKeys =
        [
            new() { Name = "admin", Role = ClientRole.Admin, Key = NewSecret("rma_") },
            new() { Name = "writer", Role = ClientRole.Writer, Key = NewSecret("rmw_") },
            new() { Name = "reader", Role = ClientRole.Reader, Key = NewSecret("rmr_") },
        ],
    };

    /// <summary>A random secret, URL-safe, with a prefix that tells what it is when one shows up in a log or a diff.</summary>
    public static string NewSecret(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(GeneratedSecretBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The credentials file of <paramref name="cluster"/>; generated (0600) when it does not exist yet.</summary>
    public static ClusterCredentials EnsureFor(ClusterFile cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var path = cluster.CredentialsPath;
        if (File.Exists(path)) return Load(path);
        var created = Generate();
        created.Save(path);
        return created;
    }

    /// <summary>Reads a credentials file; null when it does not exist.</summary>
    public static ClusterCredentials? TryLoad(string path) => File.Exists(path) ? Load(path) : null;

    public static ClusterCredentials Load(string path)
    {
        var credentials = new ClusterCredentials();
        var keys = new SortedDictionary<int, ApiKeyEntry>();
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw new ClusterFileException($"{path}: line {lineNumber} is not NAME=value");
            var name = line[..equals].Trim().Replace("__", ":", StringComparison.Ordinal);
            var value = line[(equals + 1)..].Trim();
            var parts = name.Split(':');
            if (parts is ["RaftMall", "PeerSecret"]) credentials.PeerSecret = value;
            else if (parts is ["RaftMall", "ApiKeys", var index, var field] && int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                var entry = keys.TryGetValue(i, out var found) ? found : keys[i] = new ApiKeyEntry();
                switch (field)
                {
                    case "Name": entry.Name = value; break;
                    case "Key": entry.Key = value; break;
                    case "Role" when Enum.TryParse<ClientRole>(value, ignoreCase: true, out var role) && Enum.IsDefined(role): entry.Role = role; break;
                    default: throw new ClusterFileException($"{path}: line {lineNumber}: unknown setting or role '{line[..equals]}={value}'");
                }
            }
        }
        credentials.ApiKeys = [.. keys.Values];
        return credentials;
    }

    /// <summary>Writes the file readable and writable by its owner only (0600), replacing any earlier one.</summary>
    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var lines = new List<string>
        {
            "# RaftMall cluster credentials (generated). Anyone holding this file controls the cluster: keep it mode 0600.",
            "# Nodes read these names from their environment too (Docker Compose env_file, systemd EnvironmentFile).",
            $"RaftMall__PeerSecret={PeerSecret}",
        };
        for (var i = 0; i < ApiKeys.Count; i++)
        {
            lines.Add($"RaftMall__ApiKeys__{i}__Name={ApiKeys[i].Name}");
            lines.Add($"RaftMall__ApiKeys__{i}__Role={ApiKeys[i].Role.ToString().ToLowerInvariant()}");
            lines.Add($"RaftMall__ApiKeys__{i}__Key={ApiKeys[i].Key}");
        }
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            foreach (var line in lines) writer.WriteLine(line);
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite); // an existing .tmp kept its mode
        File.Move(temporary, path, overwrite: true);
    }
}
