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

    private static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver { Modifiers = { WithDerivedFields } },
    };

    /// <summary>
    /// The tool's --json also shows the fields the contract derives and keeps off the wire (a sku's total, whether a
    /// transaction is decided and finished), as it always has.
    /// </summary>
    private static void WithDerivedFields(System.Text.Json.Serialization.Metadata.JsonTypeInfo info)
    {
        if (info.Type == typeof(StockLevel)) Add<StockLevel, long>(info, "total", s => s.Total);
        if (info.Type == typeof(GlobalTransaction))
        {
            Add<GlobalTransaction, bool>(info, "isDecided", t => t.IsDecided);
            Add<GlobalTransaction, bool>(info, "isFinished", t => t.IsFinished);
        }
    }

    private static void Add<T, TValue>(System.Text.Json.Serialization.Metadata.JsonTypeInfo info, string name, Func<T, TValue> get)
    {
        // The contract's [JsonIgnore] leaves an ignored property of that name: it makes way for one that is written.
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            if (info.Properties[i].Name == name) info.Properties.RemoveAt(i);
        }
        var property = info.CreateJsonPropertyInfo(typeof(TValue), name);
        property.Get = o => get((T)o);
        info.Properties.Add(property);
    }
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

    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOutput));

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
