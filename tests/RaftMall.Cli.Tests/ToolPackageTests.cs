using System.Text.Json;

namespace RaftMall.Cli.Tests;

/// <summary>
/// The tool as a user installs it: packed (with the node and the sample inside), installed from a local folder with
/// <c>dotnet tool install</c>, and run outside the checkout against a local cluster it starts and against one given
/// only by --endpoints and --api-key.
/// </summary>
public class ToolPackageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_installed_tool_starts_a_cluster_from_its_own_package_and_talks_to_one_by_endpoints()
    {
        var root = Path.Combine(Path.GetTempPath(), "raftmall-tests", "tool-" + Guid.NewGuid().ToString("N")[..8]);
        var (project, configuration) = TestPrograms.CliProject;
        try
        {
            // The tested build, packed as is (--no-build: nothing the other tests run is rebuilt under them).
            var packed = await CliProcess.RunProgramAsync("dotnet", ["pack", project, "-c", configuration, "--no-build", "-o", Path.Combine(root, "packages"), "-nologo"]);
            Assert.True(packed.ExitCode == 0, packed.All);
            var installed = await CliProcess.RunProgramAsync("dotnet",
                ["tool", "install", "raftmall", "--tool-path", Path.Combine(root, "tools"), "--add-source", Path.Combine(root, "packages"), "--ignore-failed-sources"],
                new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root, "nuget") }); // not a package of this version cached by an earlier run
            Assert.True(installed.ExitCode == 0, installed.All);
            var tool = Path.Combine(root, "tools", "raftmall");
            output.WriteLine(installed.Output);

            // A local cluster: the nodes come out of the package (no build tree path to fall back on is asked for).
            await using var files = new TestCluster(output: output);
            var config = files.ConfigPath;
            var up = await CliProcess.RunProgramAsync(tool, ["cluster", "up", "--config", config], workingDirectory: root);
            try
            {
                Assert.True(up.ExitCode == 0, up.All);
                var pids = files.NodeIds.Select(id => File.ReadAllText(Path.Combine(files.Cluster.NodeDataDirectory(id), "node.pid")).Split(' ')[0]).ToList();
                var commandLines = pids.Select(pid => File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')).ToList();
                // They run from the data directory's copy of the program, and that copy is the package's node.
                var copied = Path.Combine(files.Cluster.DataRoot(), ".program", "RaftNode.dll");
                Assert.All(commandLines, line => Assert.Contains(copied, line, StringComparison.Ordinal));
                var packaged = Directory.EnumerateFiles(Path.Combine(root, "tools", ".store"), "RaftNode.dll", SearchOption.AllDirectories).Single();
                Assert.Equal(await File.ReadAllBytesAsync(packaged), await File.ReadAllBytesAsync(copied));
                Assert.Equal(0, (await CliProcess.RunProgramAsync(tool, ["stock", "set", "apple", "4", "--config", config], workingDirectory: root)).ExitCode);

                // The same cluster, known only by its addresses and a key.
                var endpoints = string.Join(',', files.NodeIds.Select(id => files.Address(id).GetLeftPart(UriPartial.Authority)));
                var placed = await CliProcess.RunProgramAsync(tool, ["order", "place", "zoe", "apple:3", "--json"],
                    new Dictionary<string, string> { ["RAFTMALL_ENDPOINTS"] = endpoints, ["RAFTMALL_API_KEY"] = TestCluster.TestKeys.Writer }, root);
                Assert.True(placed.ExitCode == 0, placed.All);
                var stock = await CliProcess.RunProgramAsync(tool, ["stock", "get", "apple", "--json", "--endpoints", endpoints, "--api-key", TestCluster.TestKeys.Reader], workingDirectory: root);
                Assert.True(stock.ExitCode == 0, stock.All);
                Assert.Equal(1, JsonDocument.Parse(stock.Output).RootElement.GetProperty("available").GetInt64());
            }
            finally
            {
                var down = await CliProcess.RunProgramAsync(tool, ["cluster", "down", "--config", config], workingDirectory: root);
                output.WriteLine(down.All);
            }
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
