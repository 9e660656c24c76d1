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
        HelpName = "file",
        Recursive = true,
    };

    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print JSON for scripts instead of tables",
        Recursive = true,
    };

    public static readonly Option<string?> EndpointsOption = new("--endpoints")
    {
        Description = $"The nodes to talk to, comma-separated (http://127.0.0.1:7101,...); no cluster file is read [env {Connection.EndpointsVariable}]",
        HelpName = "urls",
        Recursive = true,
    };

    public static readonly Option<string?> ApiKeyOption = new("--api-key")
    {
        Description = $"The API key to send (default: the admin key of the cluster file's credentials) [env {Connection.ApiKeyVariable}]",
        HelpName = "key",
        Recursive = true,
    };

    public static readonly Option<string?> CaCertOption = new("--cacert")
    {
        Description = $"A CA certificate (PEM) to trust for https:// nodes (default: the cluster file's) [env {Connection.CaCertVariable}]",
        HelpName = "file",
        Recursive = true,
    };

    public static readonly Option<string?> TimeoutOption = new("--timeout")
    {
        Description = $"How long a request may retry before the command gives up: 500ms, 15s, 1m (default 15s) [env {Connection.TimeoutVariable}]",
        HelpName = "duration",
        Recursive = true,
    };

    /// <summary>The options every command takes.</summary>
    public static IEnumerable<Option> GlobalOptions => [ConfigOption, EndpointsOption, ApiKeyOption, CaCertOption, TimeoutOption, JsonOption];

    private ClusterFile? _cluster;
    private Connection? _connection;
    private RaftMallClient? _client;

    public bool Json => parse.GetValue(JsonOption);

    public ParseResult Parse => parse;

    /// <summary>
    /// The cluster file: what local commands (cluster up, demos, verify, benchmarks) work from. A command that asks for
    /// it while --endpoints is given would silently act on another cluster than the one named: refused.
    /// </summary>
    public ClusterFile Cluster => _cluster ??= parse.GetValue(EndpointsOption) is { Length: > 0 }
        ? throw new CliException(ExitCodes.Usage, $"`{CommandPath}` works from a cluster file; --endpoints is for data commands (pass --config instead)")
        : LoadCluster(parse.GetValue(ConfigOption));

    private string CommandPath => string.Join(' ', Enumerable.Reverse(CommandChain(parse.CommandResult)));

    private static IEnumerable<string> CommandChain(System.CommandLine.Parsing.CommandResult? result)
    {
        for (; result is not null && result.Parent is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult) yield return result.Command.Name;
    }

    /// <summary>The nodes, key, CA and timeout of data commands: flags, else environment, else the cluster file.</summary>
    public Connection Connection => _connection ??= Connection.From(parse.GetValue(EndpointsOption), parse.GetValue(ApiKeyOption),
        parse.GetValue(CaCertOption), parse.GetValue(TimeoutOption), () => Cluster);

    public RaftMallClient Client => _client ??= new RaftMallClient(Connection.ClientOptions());

    /// <summary>The processes of the cluster file's nodes on this machine.</summary>
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

    /// <summary>
    /// Runs a long wait under a spinner with the seconds so far, on an interactive terminal only (never with --json
    /// or when the output is redirected, where it would only add noise).
    /// </summary>
    public async Task<T> WithProgressAsync<T>(string what, Func<Task<T>> work)
    {
        if (Json || !AnsiConsole.Profile.Capabilities.Interactive) return await work();
        return await AnsiConsole.Status().StartAsync(Markup.Escape(what), async status =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var task = work();
            while (await Task.WhenAny(task, Task.Delay(250)) != task) status.Status(Markup.Escape($"{what} ({clock.Elapsed.TotalSeconds:F0} s)"));
            return await task;
        });
    }

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
