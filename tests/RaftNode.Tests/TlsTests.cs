using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RaftMall.Client;

namespace RaftMall.Node.Tests;

/// <summary>HTTPS for clients and peers with a certificate made in the test.</summary>
public sealed class TlsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_cluster_on_https_elects_replicates_and_serves_writes_and_reads()
    {
        var certificates = Path.Combine(Path.GetTempPath(), "raftmall-tests", "tls-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(certificates);
        try
        {
            var (certificatePath, keyPath) = WriteSelfSignedCertificate(certificates);
            await using var cluster = new TestCluster(output: output, scheme: "https", settings: new Dictionary<string, string>
            {
                ["TlsCertificateFile"] = certificatePath,
                ["TlsKeyFile"] = keyPath,
                ["TlsCaFile"] = certificatePath, // self-signed: the certificate is its own authority
            });
            await cluster.StartAllAsync(); // elections and heartbeats over https between the nodes
            var leader = await cluster.WaitForLeaderAsync();
            var follower = cluster.NodeIds.First(id => id != leader);

            // The client trusts the cluster's CA file; a write through a follower is forwarded over https.
            using var client = new RaftMallClient(cluster.ClientOptions());
            using var viaFollower = new RaftMallClient(new RaftMallClientOptions
            {
                Endpoints = [cluster.Address(follower)],
                ApiKey = TestCluster.TestKeys.Admin,
                TrustedCertificatesFile = certificatePath,
            });
            await viaFollower.PutAsync("tls", "yes");
            await client.SetStockAsync("apple", 3);
            foreach (var id in cluster.NodeIds)
            {
                Assert.Equal("yes", (await client.GetAsync("tls", node: cluster.Address(id))).Value);
                Assert.Equal(3, (await client.ListStockAsync(node: cluster.Address(id))).Single().Available);
            }

            // Without trust in the certificate, or in plain http, nothing gets through.
            using var untrusting = new HttpClient();
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(new Uri(cluster.Address(leader), "/health/live")));
            Assert.IsType<AuthenticationException>(refused.InnerException);
            var plain = new UriBuilder(cluster.Address(leader)) { Scheme = "http" }.Uri;
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                using var response = await untrusting.GetAsync(new Uri(plain, "/health/live"));
                if (response.StatusCode == HttpStatusCode.OK) return; // would be a failure: caught below
                throw new HttpRequestException($"plain http answered {(int)response.StatusCode}");
            });
        }
        finally
        {
            Directory.Delete(certificates, recursive: true);
        }
    }

    /// <summary>A self-signed certificate for 127.0.0.1 and localhost, as PEM files (certificate, private key).</summary>
    private static (string Certificate, string Key) WriteSelfSignedCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=raftmall-test-node", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var certificatePath = Path.Combine(directory, "node.crt");
        var keyPath = Path.Combine(directory, "node.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
