using System.Net;
using RaftMall.Client;

namespace RaftMall.Cli.Tests;

/// <summary>Secure by default on the first run: `raftmall cluster up` makes the credentials and everything uses them.</summary>
public class CliCredentialsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_failover_demo_on_a_fresh_clone_starts_the_cluster_writes_its_credentials_and_uses_them()
    {
        // The README's first command on a fresh clone: no credentials file, no node running. The demo looks for a
        // running cluster before it starts one, and must then use the keys that the start just wrote.
        await using var files = new TestCluster(output: output);
        var config = files.ConfigPath;
        File.Delete(files.Cluster.CredentialsPath);
        try
        {
            var demo = await CliProcess.RunAsync(config, "demo", "failover", "--clients", "2", "--duration", "4", "--kill-after", "1", "--restart-after", "1");
            Assert.True(demo.ExitCode == 0, demo.All);
            Assert.Contains("verdict: OK", demo.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(files.Cluster.CredentialsPath));
        }
        finally
        {
            await CliProcess.RunAsync(config, "cluster", "down");
        }
    }

    [Fact]
    public async Task Cluster_up_generates_owner_only_credentials_that_the_cli_uses_and_anonymous_clients_lack()
    {
        await using var files = new TestCluster(output: output);
        var config = files.ConfigPath;
        File.Delete(files.Cluster.CredentialsPath); // as on a fresh clone
        try
        {
            var up = await CliProcess.RunAsync(config, "cluster", "up");
            Assert.True(up.ExitCode == 0, up.All);
            Assert.True(File.Exists(files.Cluster.CredentialsPath));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(files.Cluster.CredentialsPath));
            var credentials = ClusterCredentials.Load(files.Cluster.CredentialsPath);
            Assert.Equal([ClientRole.Admin, ClientRole.Writer, ClientRole.Reader], credentials.ApiKeys.Select(k => k.Role));
            Assert.Contains("#key=" + credentials.KeyFor(ClientRole.Reader), up.Output.Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);

            var put = await CliProcess.RunAsync(config, "kv", "put", "color", "blue");
            Assert.True(put.ExitCode == 0, put.All);
            using var anonymous = new HttpClient();
            using var refused = await anonymous.GetAsync(new Uri(files.Address("n1"), "/api/kv/color"));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            using var reader = new RaftMallClient(new RaftMallClientOptions { Endpoints = [files.Address("n1")], ApiKey = credentials.KeyFor(ClientRole.Reader) });
            Assert.Equal("blue", (await reader.GetAsync("color")).Value);

            // The same file again on the next start: the keys do not change under running clients.
            Assert.Equal(0, (await CliProcess.RunAsync(config, "cluster", "credentials")).ExitCode);
            Assert.Equal(credentials.PeerSecret, ClusterCredentials.Load(files.Cluster.CredentialsPath).PeerSecret);
        }
        finally
        {
            await CliProcess.RunAsync(config, "cluster", "down");
        }
    }
}
