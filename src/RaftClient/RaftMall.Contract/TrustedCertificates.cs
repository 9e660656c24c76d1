using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace RaftMall.Contract;

/// <summary>
/// HTTPS trust for a cluster with its own CA or self-signed node certificates: a server certificate is accepted when
/// it chains to the system's roots or to one of the certificates of a PEM file (custom root trust, not "accept any").
/// Nodes use it for their peers, clients for the nodes.
/// </summary>
public static class TrustedCertificates
{
    /// <summary>A handler for clients of the cluster; without a file, the system's roots only.</summary>
    /// <param name="pemFile">PEM certificates to trust besides the system's roots; null or empty for none.</param>
    /// <param name="connectTimeout">The longest time to establish one connection.</param>
    /// <returns>A new handler that uses no proxy; the caller owns it.</returns>
    public static SocketsHttpHandler Handler(string? pemFile, TimeSpan connectTimeout)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = connectTimeout, UseProxy = false };
        if (!string.IsNullOrEmpty(pemFile)) handler.SslOptions.RemoteCertificateValidationCallback = Validator(pemFile);
        return handler;
    }

    /// <summary>Accepts what the system accepts, or a certificate whose chain ends in one of the file's certificates.</summary>
    /// <param name="pemFile">PEM certificates to trust; read once, here.</param>
    public static RemoteCertificateValidationCallback Validator(string pemFile)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(pemFile);
        return (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None) return true;
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false; // name mismatch stays an error
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // a private CA publishes no CRL
            return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        };
    }
}
