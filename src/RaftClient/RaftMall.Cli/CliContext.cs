using System.CommandLine;
using System.Text.Json;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli;

/// <summary>What every command needs: the cluster file, a client, and output in the chosen form.</summary>
public sealed class CliContext(ParseResult parse)
{
    public static readonly Option<string?> ConfigOption = new("--config", "-c")
    {
        Description = "The cluster file (default: ./cluster.yml, searched upwards from the current directory)",
        Recursive = true,
    };

    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print JSON for scripts instead of tables",
        Recursive = true,
    };

    private ClusterFile? _cluster;
    private RaftMallClient? _client;

    public bool Json => parse.GetValue(JsonOption);

    public ParseResult Parse => parse;

    public ClusterFile Cluster => _cluster ??= LoadCluster(parse.GetValue(ConfigOption));

    public RaftMallClient Client => _client ??= new RaftMallClient(ClusterAccess.ClientOptions(Cluster));

    public LocalCluster Local => new(Cluster);

    /// <summary>"127.0.0.1:7101..7103" or the list of addresses, for messages.</summary>
    public string DescribeAddresses()
    {
        var uris = Cluster.Nodes.Select(n => n.Uri).ToList();
        var ports = uris.Select(u => u.Port).Order().ToList();
        var contiguous = uris.Select(u => u.Host).Distinct().Count() == 1 && ports[^1] - ports[0] == ports.Count - 1;
        return contiguous && ports.Count > 1 ? $"{uris[0].Host}:{ports[0]}..{ports[^1]}" : string.Join(", ", uris.Select(u => u.Authority));
    }

    /// <summary>Indented JSON of a type <see cref="CliJsonContext"/> knows.</summary>
    public static void WriteJson(object value) => Console.Out.WriteLine(ToJson(value));

    public static string ToJson(object value) => JsonSerializer.Serialize(value, CliJsonContext.Default.GetTypeInfo(value.GetType())
        ?? throw new InvalidOperationException($"{value.GetType()} is not in CliJsonContext: add it there"));

    /// <summary>Prints a result: JSON with --json, otherwise the human rendering.</summary>
    public void Output(object value, Action human)
    {
        if (Json) WriteJson(value);
        else human();
    }

    public static void Info(string markup) => AnsiConsole.MarkupLine(markup);

    private static ClusterFile LoadCluster(string? path)
    {
        path ??= Find();
        if (path is null) throw new CliException(ExitCodes.Usage, "no cluster.yml in this directory or above it; pass --config <path>");
        try
        {
            return ClusterFile.Load(path);
        }
        catch (ClusterFileException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "cluster.yml");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
